import { z } from 'zod';

/**
 * The only module that reads process.env. `loadConfig()` is called once by an entrypoint in
 * src/bin and the result is passed down; nothing happens on import.
 */
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) => z.stringbool().default(def);
/** A comma-separated list (empty: none). */
const list = (item: z.ZodType<string, string>) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
const base64Key = z
  .string()
  .refine(
    (s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === 32,
    'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
  );

export const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(65_000, 1000, 600_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  MONGODB_URL: z.url({ protocol: /^mongodb(\+srv)?$/ }).optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('tock'),
  DATA_DIR: z.string().min(1).default('.data'),
  WORKER_CONCURRENCY: int(10, 1, 1000),
  WORKER_LOCK_DURATION_MS: int(30_000, 1000),
  WORKER_STALLED_INTERVAL_MS: int(30_000, 500),
  WORKER_MAX_STALLED_COUNT: int(1, 0, 100),
  WORKER_SHUTDOWN_GRACE_MS: int(30_000, 0),
  WORKER_ID: z.string().min(1).optional(),
  HTTP_ALLOW_PRIVATE_NETWORKS: bool(false),
  HISTORY_FLUSH_INTERVAL_MS: int(100, 5, 60_000),
  HISTORY_BATCH_SIZE: int(500, 1, 10_000),
  COUNTER_FLUSH_INTERVAL_MS: int(1000, 10, 60_000),
  DEFAULT_TIMEOUT_MS: int(30_000, 1, 3_600_000),
  FAILED_JOB_RETENTION: int(1000, 0),
  HISTORY_MAX_BUFFERED: int(100_000, 1000),
  HISTORY_DURABLE_ACK: bool(false),
  MISFIRE_GRACE_MS: int(5000, 0),
  /** Notifications: at most one per job and kind per this window; receivers get this long to answer. */
  NOTIFY_WINDOW_MS: int(60_000, 1000),
  NOTIFY_TIMEOUT_MS: int(10_000, 100),
  RECONCILE_INTERVAL_MS: int(300_000, 0),
  REDIS_ALLOW_EVICTION: bool(false),
  EXECUTION_RETENTION_DAYS: int(30, 0),
  EXECUTION_RETENTION_PER_JOB: int(1000, 0),
  RETENTION_INTERVAL_MS: int(60_000, 1000),
  BULL_BOARD_ACTIONS: bool(false),
  /** Prometheus metrics: GET /metrics on the API (metrics:read), and the worker's probe server. */
  METRICS_ENABLED: bool(true),
  /** The worker's probe and metrics server (/metrics, /health/live, /health/ready); 0 picks a free port. */
  WORKER_METRICS_PORT: int(9464, 0, 65535),
  /** An admin key that always works (bootstrap, automation); generated under DATA_DIR in development. */
  TOCK_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').max(300).optional(),
  /** 32 bytes in base64: seals secrets at rest; generated under DATA_DIR in development. */
  TOCK_ENCRYPTION_KEY: base64Key.optional(),
  /** Earlier encryption keys, comma-separated: still read, never written with. */
  TOCK_ENCRYPTION_KEYS_PREVIOUS: list(base64Key),
  RATE_LIMIT_PER_MINUTE: int(1200, 1),
  QUOTA_JOBS_PER_KEY: int(10_000, 1),
  QUOTA_TRIGGERS_PER_MINUTE: int(600, 1),
  PAYLOAD_MAX_BYTES: int(65_536, 1024, 1_000_000),
  PAYLOAD_MAX_KEYS: int(1000, 10, 100_000),
  CORS_ORIGINS: list(z.url()),
  ALLOWED_HOSTS: list(z.string().min(1)),
  /** Private networks webhooks may reach anyway (CIDRs), when HTTP_ALLOW_PRIVATE_NETWORKS is off. */
  HTTP_ALLOWED_NETWORKS: list(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'must be CIDRs such as 10.1.0.0/16')),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError whose message names every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    picked[key] = value === '' ? undefined : value;
  }
  const result = ConfigSchema.safeParse(picked);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
