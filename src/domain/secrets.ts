/**
 * Secrets in payloads. A job's secret fields are its handler's (every header of an http job) and
 * those it names in `secretFields` (dotted paths into the payload). They are stored sealed, shown
 * as REDACTED, unsealed only by the worker that runs the job, and scrubbed from what a run records.
 */
export const REDACTED = '[redacted]';

export type Path = readonly string[];

export function parsePath(dotted: string): Path {
  return dotted.split('.');
}

/** The value at `path` in `value`; undefined when there is none. */
export function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** True when `path` names a value in `payload`. */
export function hasPath(payload: unknown, path: Path): boolean {
  return valueAt(payload, path) !== undefined;
}

/** A copy of `payload` with the value at each path (where there is one) replaced by `fn(value, path)`. */
export function mapPaths(
  payload: Record<string, unknown>,
  paths: readonly Path[],
  fn: (value: unknown, path: Path) => unknown,
): Record<string, unknown> {
  const out = structuredClone(payload);
  for (const path of paths) {
    let parent: unknown = out;
    for (const key of path.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object' || !Object.hasOwn(parent, key)) parent = undefined;
      else parent = (parent as Record<string, unknown>)[key];
    }
    const last = path[path.length - 1]!;
    if (parent !== null && typeof parent === 'object' && Object.hasOwn(parent, last)) {
      const p = parent as Record<string, unknown>;
      p[last] = fn(p[last], path);
    }
  }
  return out;
}

/** The values at `paths`, as text (non-strings JSON-encoded). */
export function valuesAt(payload: unknown, paths: readonly Path[]): string[] {
  return paths
    .map((p) => valueAt(payload, p))
    .filter((v) => v !== undefined)
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
}

/**
 * `value` with every occurrence of a secret replaced by REDACTED, in every string it contains: what
 * a run records (a response body, an error) must not repeat a secret the target echoed.
 */
export function scrub<T>(value: T, secrets: readonly string[]): T {
  const wanted = secrets.filter((s) => s.length >= 4);
  if (wanted.length === 0) return value;
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return wanted.reduce((s, secret) => s.split(secret).join(REDACTED), v);
    if (Array.isArray(v)) return v.map(clean);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]));
    return v;
  };
  return clean(value) as T;
}
