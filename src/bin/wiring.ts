import { composeApi } from '../api/compose';
import type { Config } from '../config/env';
import { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import { connectDatabase, type Database } from '../persistence/mongo';
import { JobQueue } from '../queue/job-queue';
import { createRedis, withTimeout } from '../queue/redis';
import { startWorker } from '../worker/worker-runtime';
import { resolveServices } from './services';
import type { Stop } from './lifecycle';

async function connectMongo(url: string, ensureIndexes: boolean): Promise<Database> {
  try {
    return await connectDatabase(url, { ensureIndexes });
  } catch (err) {
    throw new Error(`MongoDB at ${redact(url)} did not answer: ${(err as Error).message}`, { cause: err });
  }
}

async function checkRedis(url: string): Promise<void> {
  const probe = createRedis(url, 'command', { enableOfflineQueue: true, retryStrategy: () => null });
  try {
    await withTimeout(probe.ping(), 3000, 'ping');
  } catch (err) {
    throw new Error(`Redis at ${redact(url)} did not answer: ${(err as Error).message}`, { cause: err });
  } finally {
    probe.disconnect();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Starts the API and/or a worker in this process, against configured or embedded services. */
export async function startProcess(cfg: Config, logger: Logger, parts: { api: boolean; worker: boolean }): Promise<Stop> {
  const services = await resolveServices(cfg, logger);
  const stops: Stop[] = [services.stop];
  try {
    await checkRedis(services.redisUrl);
    const db = await connectMongo(services.mongoUrl, parts.api);
    stops.unshift(() => db.close());
    const registry = new HandlerRegistry();

    if (parts.worker) {
      const worker = await startWorker(cfg, { redisUrl: services.redisUrl, db, registry, logger });
      stops.unshift(() => worker.close());
    }
    if (parts.api) {
      const redis = createRedis(services.redisUrl, 'command');
      redis.on('error', () => undefined);
      const queue = new JobQueue(redis, { prefix: cfg.QUEUE_PREFIX, failedJobRetention: cfg.FAILED_JOB_RETENTION });
      const app = composeApi({ db, queue, registry, logger, defaultTimeoutMs: cfg.DEFAULT_TIMEOUT_MS });
      const server = app.listen(cfg.PORT, cfg.HOST);
      await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
      const address = server.address();
      logger.info(
        { port: typeof address === 'object' && address ? address.port : cfg.PORT },
        `API listening on http://localhost:${cfg.PORT}`,
      );
      stops.unshift(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await queue.close();
        redis.disconnect();
      });
    }
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}
