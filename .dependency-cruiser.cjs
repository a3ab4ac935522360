/**
 * The layers of src/ (docs/development.md#source-layout), checked by `npm run lint`:
 *   bin -> api | worker -> services -> persistence | queue | handlers -> domain
 * with lib (I/O-free helpers), config and observability beside them; web/ (the dashboard, bundled for
 * the browser) uses only src/domain/schedule-text. An import that points up or
 * across fails the lint.
 */
const layer = (name) => `^src/${name}/`;
const not = (...names) => `^src/(?!(${names.join('|')})/)`;

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'domain-imports-nothing-of-tock',
      comment: 'domain/ is pure: schedules, retry policy, definitions, errors.',
      severity: 'error',
      from: { path: layer('domain') },
      to: { path: not('domain') },
    },
    {
      name: 'lib-imports-nothing-of-tock',
      severity: 'error',
      from: { path: layer('lib') },
      to: { path: not('lib') },
    },
    {
      name: 'config-and-observability-stand-alone',
      severity: 'error',
      from: { path: '^src/(config|observability)/' },
      to: { path: not('config', 'observability', 'lib') },
    },
    {
      name: 'adapters-only-down',
      comment: 'persistence, queue and handlers use the domain and lib, not each other or anything above.',
      severity: 'error',
      from: { path: '^src/(persistence|queue|handlers)/' },
      to: { path: '^src/(services|api|worker|bin|embedded|config)/' },
    },
    {
      name: 'adapters-not-across',
      severity: 'error',
      from: { path: '^src/(persistence|queue|handlers)/' },
      to: { path: '^src/(persistence|queue|handlers)/', pathNot: '^src/$1/' },
    },
    {
      name: 'services-not-up',
      severity: 'error',
      from: { path: layer('services') },
      to: { path: '^src/(api|worker|bin|embedded|config)/' },
    },
    {
      name: 'api-uses-services',
      comment: 'The API adapts HTTP to use cases: services, the domain, lib and observability.',
      severity: 'error',
      from: { path: layer('api') },
      to: { path: '^src/(persistence|queue|handlers|worker|bin|embedded|config)/' },
    },
    {
      name: 'worker-uses-services',
      severity: 'error',
      from: { path: layer('worker') },
      to: { path: '^src/(persistence|queue|handlers|api|bin|embedded|config)/' },
    },
    {
      name: 'embedded-servers-for-bin-only',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(bin|embedded)/' },
      to: { path: layer('embedded') },
    },
    {
      name: 'web-uses-pure-domain-only',
      comment: 'The dashboard (web/) runs in the browser: of src/ it bundles only I/O-free domain text helpers.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/domain/schedule-text\\.ts$' },
    },
    {
      name: 'server-does-not-import-web',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'mongoose-only-in-persistence',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/persistence/' },
      to: { path: 'node_modules/(mongoose|mongodb|bson)/' },
    },
    {
      name: 'bullmq-and-ioredis-only-in-queue',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/queue/' },
      to: { path: 'node_modules/(bullmq|ioredis|@bull-board)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
