import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { forEachLimited } from '../../src/lib/pool';
import { startApi, type ApiHarness } from '../helpers/api-harness';
import { checkResponse } from '../helpers/contract';

/**
 * Fault test 12: 10,000 generated malformed requests against the in-process API (real Redis and
 * FerretDB): bodies built around the create/patch schemas with fields replaced by arbitrary JSON and
 * by query operators, query strings, ids, 2 MB bodies, JSON nested 10,000 deep. Bar: 0 answers 5xx,
 * 0 unhandled rejections, every answer matches openapi.yaml, and no operator from the input ever
 * reaches MongoDB as an operator (checked on every command the driver sends).
 */
const TOTAL = 10_000;
const CONCURRENCY = 16;
/** Every operator the generators inject carries this value, so it can be recognised in a command. */
const MARK = 'fz-op-7d1c';
const OPERATORS = ['$ne', '$gt', '$gte', '$lt', '$in', '$nin', '$where', '$regex', '$exists', '$expr', '$or', '$set'];
/** Operators Tock's own queries never use: seeing one in a command means it came from input. */
// `$regex` is checked on its own: Tock sends one, for the name search, always escaped.
const FOREIGN = new Set(['$where', '$exists', '$expr', '$nin', '$function', '$jsonSchema', '$elemMatch']);

interface FuzzRequest {
  method: string;
  url: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const operator = fc.constantFrom(...OPERATORS).map((op) => ({ [op]: op === '$in' || op === '$nin' || op === '$or' ? [MARK] : MARK }));
const json = fc.oneof({ weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: operator });
const isoish = fc.oneof(
  fc.date({ min: new Date('1990-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2030-01-01T00:00:00+02:00', '2030-13-01T00:00:00Z', 'tomorrow', ''),
  fc.string(),
);
const schedule = fc.oneof(
  fc.record({ kind: fc.constant('once'), runAt: isoish }),
  fc.record({ kind: fc.constant('delay'), delayMs: fc.oneof(fc.integer(), json) }),
  fc.record(
    { kind: fc.constant('interval'), everyMs: fc.oneof(fc.integer({ min: -10, max: 10_000_000 }), json), startAt: isoish, limit: json },
    { requiredKeys: ['kind', 'everyMs'] },
  ),
  fc.record(
    {
      kind: fc.constant('cron'),
      expression: fc.oneof(fc.constantFrom('* * * * *', '99 * * * *', '*/5 * * * * *'), fc.string()),
      timezone: fc.string(),
    },
    { requiredKeys: ['kind', 'expression'] },
  ),
  json,
);
const payload = fc.oneof(
  fc.record(
    {
      url: fc.oneof(fc.webUrl(), fc.string(), json),
      method: fc.string(),
      headers: fc.dictionary(fc.string(), fc.oneof(fc.string(), json)),
      body: json,
    },
    { requiredKeys: [] },
  ),
  fc.record({ durationMs: fc.oneof(fc.integer(), json), failureRate: fc.oneof(fc.double(), json) }, { requiredKeys: [] }),
  fc.dictionary(fc.string(), json),
  json,
);
/** Around CreateJob: the right field names, values from all over. */
const jobBody = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 300 }), json),
    handler: fc.oneof(fc.constantFrom('noop', 'http', 'sleep', 'simulate', 'shell', ''), json),
    payload,
    schedule,
    retry: fc.oneof(
      fc.record({ attempts: json, backoff: fc.oneof(json, fc.record({ type: fc.string(), delayMs: json })) }, { requiredKeys: [] }),
      json,
    ),
    timeoutMs: json,
    extra: json,
    $where: json,
    'name.first': json,
  },
  { requiredKeys: [] },
);
const rawBody = fc.oneof(
  { weight: 6, arbitrary: jobBody.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"name":', '[1,', 'null', '"x"', '1e999', '{"a":1}}', '\u0000', '{"__proto__":{"x":1}}') },
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(MARK, 'scheduled', 'http', 'cron', 'interval', '0', '101', '-1', '2030-01-01T00:00:00Z', '1h', '7d', '*/5 * * * *'),
);
const queryKey = fc.oneof(
  fc.constantFrom('status', 'handler', 'scheduleKind', 'nextRunBefore', 'limit', 'cursor', 'jobId', 'state', 'name', 'window'),
  fc.constantFrom('kind', 'expression', 'timezone', 'everyMs', 'delayMs', 'runAt', 'startAt', 'endAt', 'count'),
  fc.constantFrom(...OPERATORS).map((op) => `status[${op}]`),
  fc.constantFrom('$where', 'handler[$regex]', '__proto__', 'status[]', 'limit[$gt]'),
  fc.string({ maxLength: 20 }),
);
const queryString = fc
  .array(fc.tuple(queryKey, queryValue, fc.boolean()), { maxLength: 5 })
  .map((pairs) =>
    pairs.map(([k, v, raw]) => (raw ? `${k}=${v}`.replace(/[#\s]/g, '') : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&'),
  );
const pathId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }),
  fc.constantFrom('%24ne', '..', '%00', '{"$ne":1}', 'a'.repeat(400)),
);

/**
 * Valid jobs but for one field: every refinement runs (the object-level ones only run on a body
 * whose shape parsed), so a check that throws on a value another check refused shows up here.
 */
const notify = fc.oneof(
  json,
  fc.dictionary(fc.constantFrom('onFailure', 'onDeadLetter', 'onMisfire', 'onSuccess'), fc.oneof(fc.string(), fc.webUrl(), json)),
);
const nearValid = fc.oneof(
  fc
    .record({
      url: fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom('http://', 'https://[::1', 'http://u:p@x.test', 'http://127.0.0.1/')),
    })
    .map(({ url }) => ({
      name: 'near',
      handler: 'http',
      payload: { url },
      schedule: { kind: 'delay', delayMs: 1000 },
    })),
  notify.map((n) => ({ name: 'near', handler: 'noop', schedule: { kind: 'delay', delayMs: 1000 }, notify: n })),
);

function requests(existingId: string): fc.Arbitrary<FuzzRequest> {
  const withBody = (method: string, url: string) => rawBody.map((body) => ({ method, url, body }));
  return fc.oneof(
    { weight: 6, arbitrary: withBody('POST', '/api/v1/jobs') },
    { weight: 2, arbitrary: nearValid.map((b) => ({ method: 'POST', url: '/api/v1/jobs', body: JSON.stringify(b) })) },
    { weight: 1, arbitrary: nearValid.map((b) => ({ method: 'PATCH', url: `/api/v1/jobs/${existingId}`, body: JSON.stringify(b) })) },
    { weight: 2, arbitrary: queryString.map((q) => ({ method: 'GET', url: `/api/v1/schedules/preview?${q}` })) },
    { weight: 1, arbitrary: queryString.map((q) => ({ method: 'GET', url: `/api/v1/jobs/${existingId}/stats?${q}` })) },
    { weight: 3, arbitrary: withBody('PATCH', `/api/v1/jobs/${existingId}`) },
    { weight: 1, arbitrary: pathId.chain((id) => withBody('PATCH', `/api/v1/jobs/${encodeURIComponent(id)}`)) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.array(jobBody, { minLength: 1, maxLength: 4 }).map((jobs) => ({ jobs })),
          json,
        )
        .map((b) => ({ method: 'POST', url: '/api/v1/jobs/batch', body: JSON.stringify(b) })),
    },
    { weight: 3, arbitrary: queryString.map((q) => ({ method: 'GET', url: `/api/v1/jobs?${q}` })) },
    { weight: 2, arbitrary: queryString.map((q) => ({ method: 'GET', url: `/api/v1/jobs/${existingId}/executions?${q}` })) },
    { weight: 2, arbitrary: queryString.map((q) => ({ method: 'GET', url: `/api/v1/dead-letter?${q}` })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          pathId,
          fc.constantFrom(
            'GET /jobs/:id',
            'DELETE /jobs/:id',
            'POST /jobs/:id/pause',
            'POST /jobs/:id/trigger',
            'GET /jobs/:id/executions',
            'GET /executions/:id',
            'GET /dead-letter/:id',
            'POST /dead-letter/:id/retry',
          ),
        )
        .map(([id, route]) => {
          const [method, template] = route.split(' ') as [string, string];
          return { method, url: `/api/v1${template.replace(':id', encodeURIComponent(id))}` };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 30 })
        .map((key) => ({ method: 'POST', url: '/api/v1/jobs', body: '{}', headers: { 'Idempotency-Key': key.replace(/[\r\n]/g, '') } })),
    },
  );
}

/** The hand-picked ones: operators in filters and bodies, 2 MB bodies, deep nesting. */
function fixed(existingId: string): FuzzRequest[] {
  const valid = { name: 'ok', handler: 'noop', schedule: { kind: 'cron', expression: '0 9 * * *' } };
  const deep = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
  const out: FuzzRequest[] = [];
  for (const op of OPERATORS) {
    const value = JSON.stringify({ [op]: op === '$in' || op === '$nin' || op === '$or' ? [MARK] : MARK });
    out.push({ method: 'GET', url: `/api/v1/jobs?status[${op}]=${MARK}` });
    out.push({ method: 'GET', url: `/api/v1/jobs?handler[${op}]=${MARK}&limit=5` });
    out.push({ method: 'GET', url: `/api/v1/dead-letter?jobId[${op}]=${MARK}` });
    out.push({ method: 'POST', url: '/api/v1/jobs', body: JSON.stringify({ ...valid, name: JSON.parse(value) }) });
    out.push({ method: 'POST', url: '/api/v1/jobs', body: JSON.stringify({ ...valid, payload: JSON.parse(value) }) });
    out.push({ method: 'PATCH', url: `/api/v1/jobs/${existingId}`, body: JSON.stringify({ name: JSON.parse(value) }) });
    out.push({
      method: 'PATCH',
      url: `/api/v1/jobs/${existingId}`,
      body: JSON.stringify({ payload: { url: 'http://x.test', headers: JSON.parse(value) }, handler: 'http' }),
    });
    out.push({ method: 'POST', url: '/api/v1/jobs/batch', body: JSON.stringify({ jobs: [{ ...valid, schedule: JSON.parse(value) }] }) });
    out.push({ method: 'GET', url: `/api/v1/jobs/${encodeURIComponent(value)}` });
  }
  const big = 'x'.repeat(2 * 1024 * 1024);
  out.push({ method: 'POST', url: '/api/v1/jobs', body: JSON.stringify({ ...valid, name: big }) });
  out.push({ method: 'POST', url: '/api/v1/jobs/batch', body: JSON.stringify({ jobs: [{ ...valid, payload: { big } }] }) });
  out.push({ method: 'PATCH', url: `/api/v1/jobs/${existingId}`, body: `[${'1,'.repeat(1024 * 1024)}1]` });
  const head = JSON.stringify(valid).slice(0, -1);
  out.push({ method: 'POST', url: '/api/v1/jobs', body: deep(10_000, '[', ']') });
  out.push({ method: 'POST', url: '/api/v1/jobs', body: deep(10_000, '{"a":', '}') });
  out.push({ method: 'POST', url: '/api/v1/jobs', body: `${head},"payload":${deep(10_000, '{"a":', '}')}}` });
  out.push({
    method: 'POST',
    url: '/api/v1/jobs',
    body: `{"name":"deep","handler":"http","schedule":{"kind":"cron","expression":"0 9 * * *"},"payload":{"url":"http://x.test","body":${deep(10_000, '[', ']')}}}`,
    headers: { 'Idempotency-Key': 'deep' },
  });
  out.push({
    method: 'POST',
    url: '/api/v1/jobs',
    body: `{"name":"deep","handler":"http","schedule":{"kind":"cron","expression":"0 9 * * *"},"payload":{"url":"http://x.test","body":${deep(80, '{"a":', '}')}}}`,
  });
  out.push({ method: 'POST', url: '/api/v1/jobs/batch', body: `{"jobs":[${deep(10_000, '[', ']')}]}` });
  out.push({ method: 'PATCH', url: `/api/v1/jobs/${existingId}`, body: `{"payload":${deep(10_000, '{"a":', '}')}}` });
  out.push({
    method: 'POST',
    url: '/api/v1/jobs',
    body: JSON.stringify({ ...valid, handler: 'http', payload: { url: 'http://x.test', body: [[1, 2]] } }),
  });
  out.push({
    method: 'POST',
    url: '/api/v1/jobs',
    body: JSON.stringify({ ...valid, handler: 'http', payload: { url: 'http://x.test', body: 'a\u0000b' } }),
  });
  out.push({
    method: 'POST',
    url: '/api/v1/jobs',
    body: JSON.stringify({ ...valid, handler: 'http', payload: { url: 'http://x.test', headers: { 'X.Y': 'z' } } }),
  });
  // Bodies that do not decompress as their Content-Encoding says (they used to answer 500).
  const json = Buffer.from(JSON.stringify(valid));
  const encoded: [string, Buffer][] = [
    ['gzip', json],
    ['gzip', gzipSync(json).subarray(0, 10)],
    ['gzip', brotliCompressSync(json)],
    ['gzip', deflateSync(json)],
    ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff])],
    ['deflate', json],
    ['deflate', gzipSync(json)],
    ['br', json],
    ['br', gzipSync(json)],
    ['br', brotliCompressSync(json).subarray(0, 5)],
    ['gzip, gzip', gzipSync(gzipSync(json))],
    ['zstd', json],
    ['gzip', gzipSync('{"name":')],
  ];
  for (const [encoding, body] of encoded) {
    out.push({ method: 'POST', url: '/api/v1/jobs', body, headers: { 'Content-Encoding': encoding } });
    out.push({ method: 'PATCH', url: `/api/v1/jobs/${existingId}`, body, headers: { 'Content-Encoding': encoding } });
  }
  // Fields in the body of actions that take none.
  for (const action of ['pause', 'resume', 'trigger', 'cancel']) {
    out.push({ method: 'POST', url: `/api/v1/jobs/${existingId}/${action}`, body: '{"note":"x"}' });
  }
  return out;
}

/** A `$regex` Tock sends (the name search) is the input escaped: no metacharacter is left unescaped. */
function literalPattern(pattern: unknown): boolean {
  return typeof pattern === 'string' && !/[.*+?^${}()|[\]]/.test(pattern.replace(/\\./g, ''));
}

/** `$`-keys whose value is the injected mark, and operators Tock never sends, anywhere in a command. */
function operatorViolations(value: unknown, path: string, out: string[], depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 200) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === '$regex') {
      if (!literalPattern(child)) out.push(`${path}.${key}`);
    } else if (key.startsWith('$')) {
      const direct = child === MARK || (Array.isArray(child) && child.includes(MARK));
      if (direct || FOREIGN.has(key)) out.push(`${path}.${key}`);
    }
    operatorViolations(child, `${path}.${key}`, out, depth + 1);
  }
}

describe('fault 12: 10,000 malformed requests', () => {
  let api: ApiHarness;
  const commands: { name: string; violations: string[] }[] = [];
  let unhandled = 0;
  const onUnhandled = () => void unhandled++;

  beforeAll(async () => {
    // The test checks each answer against openapi.yaml itself, with the exemptions a fuzzer needs.
    api = await startApi({ monitorCommands: true, defaultTimeoutMs: 1000, checkContract: false });
    api.db.conn.getClient().on('commandStarted', (ev) => {
      const violations: string[] = [];
      operatorViolations(ev.command, ev.commandName, violations);
      commands.push({ name: ev.commandName, violations });
    });
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await api.close();
  });

  it('answers every one with a documented 4xx or 2xx, and keeps operators out of MongoDB', async () => {
    const created = await api.request('POST', '/api/v1/jobs', {
      name: 'target',
      handler: 'http',
      payload: { url: 'http://x.test' },
      schedule: { kind: 'cron', expression: '0 9 * * *' },
    });
    const existingId = (created.body as { id: string }).id;
    const seed = Number(process.env.TOCK_FUZZ_SEED ?? Date.now() % 1_000_000);
    const hand = fixed(existingId);
    const genStarted = Date.now();
    const reader = (await api.request('POST', '/api/v1/keys', { name: 'fuzz-reader', scopes: ['jobs:read'] })).body.key as string;
    // Most requests carry the admin key; the rest none, a read-only key, or credentials that are not a key.
    const credentials = fc.oneof(
      { weight: 14, arbitrary: fc.constant<Record<string, string>>({}) },
      { weight: 2, arbitrary: fc.constant({ authorization: '' }) },
      { weight: 2, arbitrary: fc.constant({ authorization: `Bearer ${reader}` }) },
      {
        weight: 2,
        arbitrary: fc
          .oneof(
            fc.string({ maxLength: 60 }),
            fc.constantFrom('Bearer', 'Bearer tock_', `Bearer ${reader}x`, 'Basic Og==', 'Basic !!!', 'Token x'),
          )
          .map((v) => ({ authorization: v.replace(/[\r\n]/g, '') || 'Bearer' })),
      },
    );
    const generated = fc.sample(
      fc.tuple(requests(existingId), credentials).map(([r, auth]) => ({ ...r, headers: { ...r.headers, ...auth } })),
      { numRuns: TOTAL - hand.length, seed },
    );
    const all = [...hand, ...generated];
    process.stdout.write(`generated ${all.length} requests in ${Date.now() - genStarted} ms\n`);

    const byClass: Record<string, number> = {};
    const auth = { 401: 0, 403: 0 };
    const serverErrors: string[] = [];
    const contractErrors: string[] = [];
    const started = Date.now();
    let checkMs = 0;
    let checkedCount = 0;
    await forEachLimited(all, CONCURRENCY, async (r) => {
      const res = await api.request(r.method, r.url, r.body, r.headers);
      const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      const cls = `${Math.floor(res.status / 100)}xx`;
      byClass[cls] = (byClass[cls] ?? 0) + 1;
      if (res.status === 401 || res.status === 403) auth[res.status]++;
      const describe = () =>
        `${r.method} ${r.url.slice(0, 200)} ${String(r.body ?? '').slice(0, 300)} -> ${res.status} ${text.slice(0, 300)}`;
      if (res.status >= 500) serverErrors.push(describe());
      checkedCount++;
      const checkStarted = performance.now();
      // The path the API received: fetch resolves dot segments (`/jobs/./trigger` is sent as `/jobs/trigger`).
      const sent = new URL(`${api.baseUrl}${r.url}`);
      const sentPath = `${sent.pathname}${sent.search}`;
      const problems = checkResponse(r.method, sentPath, res.status, res.headers.get('content-type'), res.body).filter(
        // 404 and 405 can be answered on any path or method, and 401 on any path outside the public ones (openapi.yaml says so);
        // the router ignores a trailing slash.
        (p) =>
          !(
            (/no path in openapi.yaml matches/.test(p) &&
              (res.status === 404 || res.status === 405 || res.status === 401 || sent.pathname.endsWith('/'))) ||
            (/operation not in openapi.yaml/.test(p) && res.status === 405)
          ),
      );
      checkMs += performance.now() - checkStarted;
      if (problems.length > 0) contractErrors.push(`${describe()}\n    ${problems.join('\n    ')}`);
    });
    const elapsed = Date.now() - started;
    // Let late rejections (if any) surface before counting them.
    await new Promise((r) => setImmediate(r));

    const violations = commands.flatMap((c) => c.violations);
    const filters = commands.filter((c) => ['find', 'count', 'aggregate', 'delete', 'update', 'findAndModify'].includes(c.name)).length;
    process.stdout.write(
      [
        `fault 12 (seed ${seed}): ${all.length} requests in ${(elapsed / 1000).toFixed(1)} s (${Math.round((all.length * 1000) / elapsed)}/s)`,
        `  by status class: ${Object.entries(byClass)
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `  refused for credentials: 401 ${auth[401]}, 403 ${auth[403]}`,
        `  ${checkedCount} answers checked against openapi.yaml (${Math.round(checkMs)} ms)`,
        `  5xx = ${serverErrors.length}, unhandled rejections = ${unhandled}, contract mismatches = ${contractErrors.length}`,
        `  MongoDB commands seen: ${commands.length} (${filters} with filters), operators from input = ${violations.length}`,
        '',
      ].join('\n'),
    );
    expect(serverErrors.slice(0, 5)).toEqual([]);
    expect(unhandled).toBe(0);
    expect(contractErrors.slice(0, 5)).toEqual([]);
    expect(violations.slice(0, 5)).toEqual([]);
    // Requests without a valid key were refused, and the read-only key's changes too.
    expect(auth[401]).toBeGreaterThan(500);
    expect(auth[403]).toBeGreaterThan(50);
    // The monitor did see the traffic (a check that the check works).
    expect(filters).toBeGreaterThan(500);
    expect(elapsed).toBeLessThan(60_000);
  });
});
