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
    await checkPage(admin);
  });

  /** Fills the new-job form's common fields (the handler's own are left to the caller). */
  const startForm = async (page: Page, name: string, handler: string) => {
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('link', { name: 'New job' }).click();
    await page.getByRole('heading', { name: 'New job' }).waitFor();
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Handler').selectOption(handler);
  };

  it('creates an interval job through the form, previewing its fire times, and shows its runs as they happen', async () => {
    const { page } = admin;
    await startForm(page, 'every second', 'noop');
    await page.getByLabel('Kind').selectOption('interval');
    await page.getByLabel('Every (seconds)').fill('1');
    // The preview follows the typing: the API's words for the schedule and its next fire times.
    await page.getByTestId('schedule-preview').getByText('every second', { exact: true }).waitFor();
    await page.getByTestId('schedule-preview').locator('li').nth(4).waitFor();
    await screenshot(page, 'form');
    await checkPage(admin);
    await page.getByRole('button', { name: 'Create job' }).click();

    await page.getByRole('heading', { name: 'every second' }).waitFor();
    await page.getByTestId('job-schedule').filter({ hasText: 'every second' }).waitFor();
    await page.locator('[data-testid="next-runs"] li').nth(9).waitFor();
    // The history fills in while the page is open (it polls): three runs, newest first, each succeeded.
    await cellsOf(page, 'Status').nth(2).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await cellsOf(page, 'Status').first().textContent()).toBe('succeeded');
    await page.getByLabel('Window').selectOption('1h');
    await page.getByText('success rate').waitFor();
    await screenshot(page, 'job');
    await checkPage(admin);

    await page.getByRole('button', { name: 'Trigger now' }).click();
    await page.getByRole('status').filter({ hasText: 'Run started' }).waitFor();
    await cellsOf(page, 'Trigger').filter({ hasText: 'manual' }).first().waitFor();

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('cell', { name: 'every second' }).first().waitFor();
    await screenshot(page, 'jobs');
    await checkPage(admin);
  });

  it('pauses a job from its page: the state shows paused and its runs stop', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'every second' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('job-status').filter({ hasText: 'paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    const id = /\/ui\/jobs\/([0-9a-f]{24})$/.exec(page.url())![1]!;
    // That something does not happen can only be watched for a while: three slots, in which a running
    // job records three runs; one already under way when it paused may still finish.
    const count = async () => (await http(base(), 'GET', `/api/v1/jobs/${id}/executions?limit=100`)).body.items.length as number;
    const atPause = await count();
    expect(atPause).toBeGreaterThanOrEqual(3);
    await page.waitForTimeout(3000);
    expect((await count()) - atPause).toBeLessThanOrEqual(1);
    expect((await http(base(), 'GET', `/api/v1/jobs/${id}`)).body.status).toBe('paused');
  });

  it("shows the API's field errors beside the fields", async () => {
    const { page } = admin;
    await startForm(page, ' ', 'sleep');
    await page.getByLabel('Duration (ms)').fill('-5');
    await page.getByLabel('Kind').selectOption('interval');
    await page.getByLabel('Every (seconds)').fill('0.5');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('alert').filter({ hasText: 'The request body is invalid' }).waitFor();
    for (const [label, text] of [
      ['Every (seconds)', '1000'],
      ['Duration (ms)', '0'],
      ['Name', ''],
    ] as const) {
      const input = page.getByLabel(label);
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      const errorId = (await input.getAttribute('aria-describedby'))!.split(' ').find((i) => i.endsWith('-error'))!;
      const shown = (await page.locator(`#${errorId}`).textContent())!;
      expect(shown).toContain(text);
    }
    await checkPage(admin, [401, 400]);
  });

  it('sends a failing run to the dead letter, shows its attempts, and records a retry that succeeds once the job is fixed', async () => {
    const { page } = admin;
    await startForm(page, 'always fails', 'simulate');
    await page.getByLabel('Failure rate (0 to 1)').fill('1');
    await page.getByLabel('Kind').selectOption('delay');
    await page.getByLabel('Delay (seconds)').fill('0');
    await page.getByLabel('Attempts per run').fill('1');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: 'always fails' }).waitFor();
    await cellsOf(page, 'Status').filter({ hasText: 'failed' }).first().waitFor();

    await page.getByRole('link', { name: 'Dead letter', exact: true }).click();
    const row = page.locator('table[data-testid="dead-letter"] tbody tr').filter({ hasText: 'always fails' });
    await row.waitFor();
    await row.getByRole('button', { name: /Inspect/ }).click();
    await page.getByTestId('dead-letter-details').getByText('simulated failure', { exact: false }).first().waitFor();
    await page.getByTestId('dead-letter-details').locator('li').filter({ hasText: '#1' }).filter({ hasText: 'failed' }).waitFor();
    await screenshot(page, 'dead-letter');
    await checkPage(admin, [401, 400]);

    // Fix the job through the edit form, then retry the entry: the retry run succeeds.
    await row.getByRole('link', { name: 'always fails' }).click();
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Failure rate (0 to 1)').fill('0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'always fails' }).waitFor();
    await page.getByText('version 2').waitFor();
    await page.getByRole('link', { name: 'Dead letter', exact: true }).click();
    await row.getByRole('button', { name: /Retry/ }).click();
    await page.getByRole('status').filter({ hasText: 'Retry started' }).waitFor();
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('State').selectOption('retried');
    await page.locator('table[data-testid="dead-letter"] tbody tr').filter({ hasText: 'always fails' }).waitFor();

    await page.getByRole('link', { name: 'always fails' }).first().click();
    await page
      .locator('table[data-testid="history"] tr')
      .filter({ hasText: 'dead-letter-retry' })
      .filter({ hasText: 'succeeded' })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await checkPage(admin, [401, 400]);

    // The overview counts both jobs and the runs of the last hour.
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByTestId('jobs-total').filter({ hasText: '2' }).waitFor();
    await page
      .getByTestId('failures-last-hour')
      .filter({ hasText: /^[1-9]/ })
      .waitFor();
    await screenshot(page, 'overview');
    await checkPage(admin, [401, 400]);
  });

  it('dismisses a dead-letter entry', async () => {
    const { page } = admin;
    const made = await http(base(), 'POST', '/api/v1/jobs', {
      name: 'fails once more',
      handler: 'simulate',
      payload: { failureRate: 1 },
      schedule: { kind: 'delay', delayMs: 0 },
      retry: { attempts: 1 },
    });
    expect(made.status).toBe(201);
    await page.getByRole('link', { name: 'Dead letter', exact: true }).click();
    await page.getByLabel('State').selectOption('open');
    const row = page.locator('table[data-testid="dead-letter"] tbody tr').filter({ hasText: 'fails once more' });
    await row.getByRole('button', { name: /Dismiss/ }).click();
    await page.getByRole('status').filter({ hasText: 'Dismissed' }).waitFor();
    await row.waitFor({ state: 'detached' });
    const left = await http(base(), 'GET', `/api/v1/dead-letter?jobId=${made.body.id}`);
    expect(left.body.items).toEqual([]);
    await http(base(), 'DELETE', `/api/v1/jobs/${made.body.id}`);
    await checkPage(admin, [401, 400]);
  });

  it('says that someone else changed the job when the edit form saves over a newer version (412)', async () => {
    const { page } = admin;
    const id = ((await http(base(), 'GET', '/api/v1/jobs?name=every%20second')).body.items[0] as { id: string }).id;
    await page.goto(`${base()}/ui/jobs/${id}/edit`);
    await page.getByLabel('Name').fill('every second, renamed here');
    const other = await http(base(), 'PATCH', `/api/v1/jobs/${id}`, { name: 'every second, renamed elsewhere' });
    expect(other.status).toBe(200);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone else changed this job; reload' }).waitFor();
    expect((await http(base(), 'GET', `/api/v1/jobs/${id}`)).body.name).toBe('every second, renamed elsewhere');
    await checkPage(admin, [401, 400, 412]);
  });

  it('offers a read-only key no write buttons', async () => {
    const made = await http(base(), 'POST', '/api/v1/keys', { name: 'viewer', scopes: ['jobs:read'] });
    expect(made.status).toBe(201);
    const viewer = await openPage(browser);
    try {
      const { page } = viewer;
      await signIn(page, base(), made.body.key);
      await page.getByRole('link', { name: 'Jobs', exact: true }).click();
      await page.getByRole('link', { name: 'always fails' }).waitFor();
      expect(await page.getByRole('link', { name: 'New job' }).count()).toBe(0);
      await page.getByRole('link', { name: 'always fails' }).click();
      await page.getByTestId('job-status').waitFor();
      for (const name of ['Trigger now', 'Pause', 'Resume', 'Delete']) expect(await page.getByRole('button', { name }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Dead letter', exact: true }).click();
      await page.getByLabel('State').selectOption('retried');
      await page.locator('table[data-testid="dead-letter"] tbody tr').first().waitFor();
      expect(await page.getByRole('button', { name: /Retry|Dismiss/ }).count()).toBe(0);
      await checkPage(viewer);
    } finally {
      await viewer.context.close();
    }
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
        if (path.startsWith('/ui/jobs/') && !path.endsWith('new')) await screenshot(phone.page, 'phone-job');
      }
      expect(phone.unexpectedErrors()).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it('deletes a job after asking once more, and signs out', async () => {
    const { page } = admin;
    await page.goto(`${base()}/ui/jobs?name=renamed%20elsewhere`);
    await page.getByRole('link', { name: 'every second, renamed elsewhere' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.getByRole('link', { name: 'always fails' }).waitFor();
    expect(await page.getByRole('link', { name: 'every second, renamed elsewhere' }).count()).toBe(0);
    expect((await http(base(), 'GET', '/api/v1/jobs?name=renamed%20elsewhere')).body.items).toEqual([]);

    // On a fresh page the keyboard reaches the skip link first.
    await page.reload();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    await page.reload();
    await page.getByLabel('API key').waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    expect(admin.unexpectedErrors([401, 400, 412])).toEqual([]);
  });
});
