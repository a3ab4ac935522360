import { NetworkPolicy } from '../../src/handlers/network-guard';

const strict = new NetworkPolicy(false);
const isBlockedAddress = (a: string) => strict.isBlocked(a);
const assertLiteralAllowed = (h: string) => strict.assertLiteralAllowed(h);

describe('network guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '100.64.0.1',
    '::127.0.0.1',
    '::a00:1',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
  ])('blocks %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('allows public %s', (ip) => expect(isBlockedAddress(ip)).toBe(false));

  it('checks IP literals in URLs before connecting', () => {
    expect(() => assertLiteralAllowed('[::1]')).toThrow(/loopback .*HTTP_ALLOW_PRIVATE_NETWORKS=true/);
    expect(() => assertLiteralAllowed('169.254.169.254')).toThrow(/link-local .*HTTP_ALLOW_PRIVATE_NETWORKS=true/);
    expect(() => assertLiteralAllowed('api.localhost')).toThrow(/loopback name/);
    expect(() => assertLiteralAllowed('example.com')).not.toThrow();
  });

  it('lets a deployment allow a private network, and only that one', () => {
    const policy = new NetworkPolicy(false, ['10.1.0.0/16', 'fd00:1::/64']);
    expect(policy.isBlocked('10.1.2.3')).toBe(false);
    expect(policy.isBlocked('10.2.0.1')).toBe(true);
    expect(policy.isBlocked('fd00:1::5')).toBe(false);
    expect(policy.isBlocked('fd00:2::5')).toBe(true);
    expect(policy.literalHostError('10.1.2.3')).toBeNull();
    expect(policy.literalHostError('localhost.')).toMatch(/loopback name/);
    expect(new NetworkPolicy(true).isBlocked('127.0.0.1')).toBe(false);
  });
});
