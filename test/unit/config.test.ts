import { ConfigError, loadConfig } from '../../src/config/env';

describe('configuration', () => {
  it('has sane defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.PORT).toBe(3000);
    expect(cfg.WORKER_CONCURRENCY).toBe(10);
    expect(cfg.HTTP_ALLOW_PRIVATE_NETWORKS).toBe(false);
    expect(cfg.REDIS_URL).toBeUndefined();
  });

  it('parses booleans as words, not as truthy strings', () => {
    expect(loadConfig({ HTTP_ALLOW_PRIVATE_NETWORKS: 'false' }).HTTP_ALLOW_PRIVATE_NETWORKS).toBe(false);
    expect(loadConfig({ HTTP_ALLOW_PRIVATE_NETWORKS: 'true' }).HTTP_ALLOW_PRIVATE_NETWORKS).toBe(true);
  });

  it('names every invalid variable', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', WORKER_CONCURRENCY: '0', REDIS_URL: 'http://x' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT="eighty"/);
    expect(attempt).toThrow(/WORKER_CONCURRENCY="0"/);
    expect(attempt).toThrow(/REDIS_URL="http:\/\/x"/);
  });
});
