import { ConfigError, loadConfig, type Config } from '../config/env';
import { createLogger, type Logger } from '../observability/logger';

export type Stop = () => Promise<void>;

/**
 * Runs an entrypoint: loads config (a bad variable stops the process with a message naming it),
 * starts, and stops on SIGTERM/SIGINT. First signal: graceful stop; a second one: exit at once.
 */
export function runMain(name: string, start: (cfg: Config, logger: Logger) => Promise<Stop>): void {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    process.stderr.write(`tock ${name}: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(78);
  }
  const logger = createLogger(cfg.LOG_LEVEL, { service: `tock-${name}` });
  let stopping = false;
  let stop: Stop | undefined;

  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (stop ? stop() : Promise.resolve())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));

  start(cfg, logger)
    .then((s) => {
      stop = s;
      if (stopping) void s().then(() => process.exit(0));
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, `tock ${name} could not start: ${(err as Error).message}`);
      process.exit(1);
    });
}
