import type { Browser, Page } from 'playwright-core';
import { useCluster } from '../helpers/e2e';
import {
  assertDashboardBuilt,
  launchBrowser,
  openPage,
  overflowsHorizontally,
  PHONE,
  screenshot,
  seriousAxeViolations,
  signIn,
  UI_TIMEOUT_MS,
  type WatchedPage,
} from '../helpers/browser';
import { http } from '../helpers/http';
import { TEST_ADMIN_KEY } from '../helpers/keys';

/**
 * The web dashboard in chromium against the API and two workers as real processes: signing in,
 * creating jobs through the form and watching them run, pausing, the dead letter, field errors,
 * conflicts, what a read-only key is offered, a phone-width screen, the console and axe-core.
 */
describe('web dashboard (chromium, API + 2 workers as processes)', () => {
  const e = useCluster({ COUNTER_FLUSH_INTERVAL_MS: '100' }, 2);
  let browser: Browser;
  let admin: WatchedPage;
  const base = () => e.cluster.baseUrl;

  beforeAll(async () => {
    assertDashboardBuilt();
    browser = await launchBrowser();
    admin = await openPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** No console errors but the expected ones, and no serious or critical axe violations. */
  const checkPage = async (w: WatchedPage, allowed?: number[]) => {
    expect(await seriousAxeViolations(w.page)).toEqual([]);
    expect(w.unexpectedErrors(allowed)).toEqual([]);
  };
  const cellsOf = (page: Page, column: string) => page.locator(`table[data-testid="history"] td[data-label="${column}"]`);

  it('serves the page under its Content-Security-Policy, the sign-in form first', async () => {
    const res = await fetch(`${base()}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(await res.text())![1]!;
    const js = await fetch(`${base()}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');

    await admin.page.goto(`${base()}/`);
    await admin.page.getByLabel('API key').waitFor();
    await screenshot(admin.page, 'sign-in');
    await checkPage(admin);
  });

  it('refuses a wrong key beside the field, then signs in and shows the overview', async () => {
    const { page } = admin;
    await page.getByLabel('API key').fill('tock_nothing_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();

    await signIn(page, base(), TEST_ADMIN_KEY);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByTestId('workers-connected').filter({ hasText: '2' }).waitFor();
    await screenshot(page, 'overview');
    await checkPage(admin);
  });

  it("shows a job's runs as they happen, its next runs and stats, and pauses it from its page", async () => {
    const { page } = admin;
    const made = await http(base(), 'POST', '/api/v1/jobs', {
      name: 'every second',
      handler: 'noop',
      schedule: { kind: 'interval', everyMs: 1000 },
    });
    expect(made.status).toBe(201);
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'every second' }).click();
    await page.getByTestId('job-schedule').filter({ hasText: 'every second' }).waitFor();
    await page.locator('[data-testid="next-runs"] li').nth(9).waitFor();
    // The history fills in while the page is open (it polls): three runs, newest first, each succeeded.
    await cellsOf(page, 'Status').nth(2).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await cellsOf(page, 'Status').first().textContent()).toBe('succeeded');
    await screenshot(page, 'job');
    await checkPage(admin);

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('job-status').filter({ hasText: 'paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    // Runs stop. That something does not happen can only be watched for a while: three slots, in which
    // a running job records three runs; one already under way when it paused may still finish.
    const count = async () => (await http(base(), 'GET', `/api/v1/jobs/${made.body.id}/executions?limit=100`)).body.items.length as number;
    const atPause = await count();
    await page.waitForTimeout(3000);
    expect((await count()) - atPause).toBeLessThanOrEqual(1);
  });

  it('fits a phone-width screen (390 px) without scrolling sideways', async () => {
    const phone = await openPage(browser, PHONE);
    try {
      await signIn(phone.page, base(), TEST_ADMIN_KEY);
      const jobs = (await http(base(), 'GET', '/api/v1/jobs?limit=1')).body.items as { id: string }[];
      for (const path of ['/', '/ui/jobs', `/ui/jobs/${jobs[0]!.id}`, '/ui/jobs/new', '/ui/dead-letter']) {
        await phone.page.goto(`${base()}${path}`);
        await phone.page.getByRole('heading', { level: 1 }).waitFor();
        await phone.page.waitForLoadState('networkidle');
        expect({ path, overflows: await overflowsHorizontally(phone.page) }).toEqual({ path, overflows: false });
      }
      expect(phone.unexpectedErrors()).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
