import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Driving the dashboard in Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium) through
 * playwright-core: pages that record their console errors, signing in through the form, axe-core,
 * screenshots into docs/images when TOCK_SCREENSHOTS=1.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** How long the UI may take to show something that the API and workers do within a second or two. */
export const UI_TIMEOUT_MS = 20_000;

export function assertDashboardBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist/web/index.html'))) throw new Error('dist/web is missing: run `npm run build` first');
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`No chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A page whose console errors and uncaught exceptions are kept in `errors`. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /**
   * The errors other than "Failed to load resource" for the given HTTP statuses, which a test
   * provokes on purpose (401 before signing in, 400 for a rejected form, 412 for a conflict).
   */
  unexpectedErrors(allowedStatuses?: number[]): string[];
}

export async function openPage(browser: Browser, viewport = DESKTOP): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return {
    context,
    page,
    errors,
    unexpectedErrors: (allowed = [401]) =>
      errors.filter((e) => {
        const m = /Failed to load resource: the server responded with a status of (\d{3})/.exec(e);
        return !(m && allowed.includes(Number(m[1])));
      }),
  };
}

/** Signs in through the dashboard's own form and waits for the navigation to appear. */
export async function signIn(page: Page, baseUrl: string, apiKey: string, at = '/'): Promise<void> {
  await page.goto(`${baseUrl}${at}`);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. The source is evaluated
 * through the DevTools protocol, which the page's Content-Security-Policy does not govern (a
 * <script> tag would be refused, as it should be).
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))',
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** docs/images/dashboard-<name>.png at the page's size, only with TOCK_SCREENSHOTS=1 (CI leaves the committed ones alone). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.TOCK_SCREENSHOTS !== '1') return;
  const dir = path.join(ROOT, 'docs/images');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `dashboard-${name}.png`), fullPage: false });
}

/** True when the document is wider than the viewport (something forces a horizontal scroll). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return (await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth')) as boolean;
}
