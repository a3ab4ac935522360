import type { Job, Schedule } from './types';

/**
 * The create/edit form's state (every input as the text it holds) and its conversion to the API's
 * request body. Numbers are left for the API to judge: its field errors are shown beside the inputs.
 */
export interface FormState {
  name: string;
  handler: string;
  kind: Schedule['kind'];
  runAt: string;
  delaySeconds: string;
  everySeconds: string;
  expression: string;
  timezone: string;
  startAt: string;
  endAt: string;
  limit: string;
  misfire: string;
  overlap: string;
  url: string;
  method: string;
  headers: string;
  body: string;
  durationMs: string;
  failureRate: string;
  attempts: string;
  backoffType: string;
  backoffDelayMs: string;
  timeoutMs: string;
}

export const EMPTY_FORM: FormState = {
  name: '',
  handler: 'http',
  kind: 'interval',
  runAt: '',
  delaySeconds: '60',
  everySeconds: '300',
  expression: '0 9 * * 1',
  timezone: '',
  startAt: '',
  endAt: '',
  limit: '',
  misfire: '',
  overlap: '',
  url: '',
  method: 'POST',
  headers: '',
  body: '',
  durationMs: '0',
  failureRate: '0',
  attempts: '3',
  backoffType: 'exponential',
  backoffDelayMs: '1000',
  timeoutMs: '',
};

/** The form field that shows the API's errors for a body path (`schedule.everyMs` -> everySeconds). */
export const FIELD_OF_PATH: Record<string, keyof FormState> = {
  name: 'name',
  handler: 'handler',
  'schedule.kind': 'kind',
  'schedule.runAt': 'runAt',
  'schedule.delayMs': 'delaySeconds',
  'schedule.everyMs': 'everySeconds',
  'schedule.expression': 'expression',
  'schedule.timezone': 'timezone',
  'schedule.startAt': 'startAt',
  'schedule.endAt': 'endAt',
  'schedule.limit': 'limit',
  'schedule.misfire': 'misfire',
  'schedule.overlap': 'overlap',
  'payload.url': 'url',
  'payload.method': 'method',
  'payload.headers': 'headers',
  'payload.body': 'body',
  'payload.durationMs': 'durationMs',
  'payload.failureRate': 'failureRate',
  'retry.attempts': 'attempts',
  'retry.backoff.type': 'backoffType',
  'retry.backoff.delayMs': 'backoffDelayMs',
  timeoutMs: 'timeoutMs',
};

/** The field an error path belongs to: the longest known prefix (`payload.headers.X-A` -> headers). */
export function fieldOf(path: string): keyof FormState | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const f = FIELD_OF_PATH[p];
    if (f) return f;
  }
  return undefined;
}

/** A number when the text is one, else the text itself (so that the API names what is wrong). */
function num(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}
function scaled(text: string, factor: number): number | string | undefined {
  const n = num(text);
  return typeof n === 'number' ? Math.round(n * factor) : n;
}
/** datetime-local ("2030-01-01T09:00") in the browser's zone -> ISO 8601 with an offset. */
export function toIso(local: string): string | undefined {
  if (!local.trim()) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

export function scheduleOf(f: FormState): Record<string, unknown> {
  const bounds = { startAt: toIso(f.startAt), endAt: toIso(f.endAt), limit: num(f.limit), misfire: f.misfire, overlap: f.overlap };
  switch (f.kind) {
    case 'once':
      return defined({ kind: 'once', runAt: toIso(f.runAt) });
    case 'delay':
      return defined({ kind: 'delay', delayMs: scaled(f.delaySeconds, 1000) });
    case 'interval':
      return defined({ kind: 'interval', everyMs: scaled(f.everySeconds, 1000), ...bounds });
    case 'cron':
      return defined({ kind: 'cron', expression: f.expression, timezone: f.timezone.trim(), ...bounds });
  }
}

/** "Name: value" lines -> { Name: value }. */
function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf(':');
    out[(at < 0 ? line : line.slice(0, at)).trim()] = at < 0 ? '' : line.slice(at + 1).trim();
  }
  return out;
}

/** The handler's payload; fields the form does not show (an http job's expectedStatus, say) are kept. */
export function payloadOf(f: FormState, original: Record<string, unknown> = {}): Record<string, unknown> {
  switch (f.handler) {
    case 'http': {
      const body = f.body.trim() === '' ? undefined : parseBody(f.body);
      const { body: _old, ...rest } = original;
      return defined({ ...rest, url: f.url.trim(), method: f.method, headers: headersOf(f.headers), body });
    }
    case 'sleep':
      return defined({ durationMs: num(f.durationMs) });
    case 'simulate':
      return defined({ durationMs: num(f.durationMs), failureRate: num(f.failureRate) });
    default:
      return {};
  }
}

/** JSON when the text parses as JSON, else the text (sent as text/plain). */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function bodyOf(f: FormState, original?: Job): Record<string, unknown> {
  return defined({
    name: f.name,
    handler: f.handler,
    payload: payloadOf(f, original?.handler === f.handler ? original.payload : {}),
    schedule: scheduleOf(f),
    retry: defined({ attempts: num(f.attempts), backoff: defined({ type: f.backoffType, delayMs: num(f.backoffDelayMs) }) }),
    timeoutMs: num(f.timeoutMs),
  });
}

/** For an edit: only the fields that differ from the job (a schedule sent again would be registered again). */
export function changesOf(body: Record<string, unknown>, job: Job): Record<string, unknown> {
  const current: Record<string, unknown> = {
    name: job.name,
    handler: job.handler,
    payload: job.payload,
    schedule: job.schedule,
    retry: job.retry,
    timeoutMs: job.timeoutMs,
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (canonical(v) !== canonical(current[k])) out[k] = v;
  // A changed handler needs its payload alongside.
  if (out.handler !== undefined) out.payload = body.payload;
  return out;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** JSON with sorted keys and every date-time in UTC: the same value written two ways compares equal. */
export function canonical(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (typeof v === 'string' && ISO_TIME.test(v)) return new Date(v).toISOString();
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(norm(value));
}

export function formOf(job: Job): FormState {
  const s = job.schedule;
  const p = job.payload as Record<string, unknown>;
  const bounds = s.kind === 'interval' || s.kind === 'cron' ? s : undefined;
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    ...EMPTY_FORM,
    name: job.name,
    handler: job.handler,
    kind: s.kind,
    runAt: s.kind === 'once' ? toLocalInput(s.runAt) : '',
    delaySeconds: s.kind === 'delay' ? str(s.delayMs / 1000) : EMPTY_FORM.delaySeconds,
    everySeconds: s.kind === 'interval' ? str(s.everyMs / 1000) : EMPTY_FORM.everySeconds,
    expression: s.kind === 'cron' ? s.expression : EMPTY_FORM.expression,
    timezone: s.kind === 'cron' ? str(s.timezone) : '',
    startAt: toLocalInput(bounds?.startAt),
    endAt: toLocalInput(bounds?.endAt),
    limit: str(bounds?.limit),
    misfire: str(bounds?.misfire),
    overlap: str(bounds?.overlap),
    url: str(p.url),
    method: str(p.method ?? 'POST'),
    headers: Object.entries((p.headers as Record<string, string> | undefined) ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
    body: p.body === undefined ? '' : typeof p.body === 'string' ? p.body : JSON.stringify(p.body, null, 2),
    durationMs: str(p.durationMs ?? 0),
    failureRate: str(p.failureRate ?? 0),
    attempts: str(job.retry.attempts),
    backoffType: job.retry.backoff.type,
    backoffDelayMs: str(job.retry.backoff.delayMs),
    timeoutMs: str(job.timeoutMs),
  };
}
