/**
 * Projects: unit (pure logic), integration (real Redis + FerretDB), e2e (spawned processes),
 * fault (processes and servers killed, stopped and restarted; each test prints its figure), browser
 * (the web dashboard in chromium against spawned processes; needs `npm run build` and chromium).
 * `npm run test:long` runs the long suites (soak and anything over a minute) instead: test/long;
 * `npm run test:monitoring` the shipped Prometheus configuration and dashboard against a real Prometheus.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] };
const common = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'] };
const long = process.env.TOCK_TEST_LONG === '1';
const monitoring = process.env.TOCK_TEST_MONITORING === '1';

module.exports = {
  testTimeout: long ? 1_800_000 : 120_000,
  forceExit: true,
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  projects: long
    ? [{ ...common, displayName: 'long', testMatch: ['<rootDir>/test/long/**/*.test.ts'] }]
    : monitoring
      ? [{ ...common, displayName: 'monitoring', testMatch: ['<rootDir>/test/monitoring/**/*.test.ts'] }]
      : [
          { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
          { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
          { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
          { ...common, displayName: 'fault', testMatch: ['<rootDir>/test/fault/**/*.test.ts'] },
          { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] },
        ],
};
