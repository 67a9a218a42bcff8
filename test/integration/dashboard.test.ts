// The live admin dashboard in a real browser: Debian's chromium, driven through playwright-core.
// It must follow Docker without a reload, say why a container is skipped, fit a phone, and ask
// for the admin token when berth has one.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startSyncedBerth, useBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, docker, runHttpd, uniqueName } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';
import { repoRoot } from '../support/repo.js';

const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags chromium keeps trying to reach the internet, which is slow here. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The longest any single wait on the page may take. */
const WAIT_MS = 5_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

/** What page.evaluate callbacks see: the browser's globals (the project compiles without the DOM library). */
interface PageWindow {
  berthMarker?: string;
  berthDashboard?: { snapshots: number };
  performance: { timeOrigin: number };
  innerWidth: number;
  sessionStorage: { getItem(key: string): string | null };
  document: { documentElement: { scrollWidth: number } };
}

interface ContainersView {
  containers: Array<{ name: string; problems: Array<{ code: string; fix?: string }> }>;
}

/** A headless chromium for the suite, closed after it; fails with the way to install it when missing. */
function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-chromium.sh (npm test does)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 15_000 }).catch((error: unknown) => {
      throw new Error(`${CHROMIUM} did not start (bash scripts/ensure-chromium.sh installs it): ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser is not running: useBrowser() must be called inside describe()');
    return browser;
  };
}

/** Errors the dashboard's script threw, per page. */
const pageErrors = new WeakMap<Page, string[]>();

async function openDashboard(browser: Browser, berth: RunningBerth): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light', deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${berth.adminPort}/`, { timeout: WAIT_MS });
  return page;
}

function assertNoScriptErrors(page: Page): void {
  assert.deepEqual(pageErrors.get(page), [], 'the dashboard threw in the browser');
}

const live = (page: Page) => page.locator('[data-testid="connection"][data-state="live"]').waitFor();
const route = (page: Page, host: string) => page.locator(`[data-testid="route"][data-host="${host}"]`);
const card = (page: Page, name: string) => page.locator(`[data-testid="container"][data-name="${name}"]`);

/** What identifies this page load: a reload or navigation would lose the marker and change the origin time. */
async function pageLoad(page: Page): Promise<{ marker: string | undefined; timeOrigin: number }> {
  return page.evaluate(() => {
    const w = globalThis as unknown as PageWindow;
    return { marker: w.berthMarker, timeOrigin: w.performance.timeOrigin };
  });
}

async function snapshotsSeen(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageWindow).berthDashboard?.snapshots ?? 0);
}

describe('the admin dashboard in a browser', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'berth-dashboard-'));
  const routesFile = join(folder, 'routes.yml');
  await writeFile(routesFile, 'routes:\n  - host: legacy.example.test\n    to: [http://127.0.0.1:9001, http://127.0.0.1:9002]\n  - host: old.example.test\n    redirect: https://new.example.test\n');
  const berth = useBerth(['--routes-file', routesFile]);
  const browser = useBrowser();
  const web = uniqueName('dash-web');
  const broken = uniqueName('dash-broken');
  let page: Page;
  let load: Awaited<ReturnType<typeof pageLoad>>;

  before(async () => {
    await busyboxImage(); // built once, outside the tests' time limits
    page = await openDashboard(browser(), berth());
    await live(page);
    await page.evaluate(() => {
      (globalThis as unknown as PageWindow).berthMarker = 'loaded once';
    });
    load = await pageLoad(page);
  });
  after(async () => {
    await page?.context().close();
    await rm(folder, { recursive: true, force: true });
  });

  it('shows the header and the routes file routes, redirect included, as soon as it connects', async () => {
    assert.equal(await page.getAttribute('[data-testid="readiness"]', 'data-ready'), 'true');
    assert.equal(await page.getAttribute('[data-testid="docker"]', 'data-connected'), 'true');
    assert.equal(await page.getAttribute('[data-testid="routes-file"]', 'data-state'), 'ok');
    await route(page, 'legacy.example.test').waitFor();
    assert.equal(await route(page, 'legacy.example.test').getAttribute('data-source'), 'file');
    assert.equal(await route(page, 'legacy.example.test').locator('[data-testid="endpoint"]').count(), 2);
    const redirect = route(page, 'old.example.test').locator('[data-testid="redirect"]');
    assert.match(await redirect.innerText(), /https:\/\/new\.example\.test/);
  });

  it('reads server-sent events however the stream cuts them into chunks', async () => {
    // The module the page runs, not a copy: importing its URL again returns the loaded module.
    const results = await page.evaluate(async (url) => {
      type Parser = (onEvent: (type: string, data: string) => void) => (chunk: string) => void;
      const { createSseParser } = (await import(url)) as { createSseParser: Parser };
      const text = ': ping\n\nevent: snapshot\ndata: {"a":1}\n\nevent: snapshot\r\ndata: {"b":\r\ndata: 2}\r\n\r\ndata:plain\n\n: ping\n\n';
      const outcomes = new Set<string>();
      for (let size = 1; size <= text.length; size++) {
        const events: Array<[string, string]> = [];
        const push = createSseParser((type, data) => events.push([type, data]));
        for (let at = 0; at < text.length; at += size) push(text.slice(at, at + size));
        outcomes.add(JSON.stringify(events));
      }
      return [...outcomes];
    }, '/dashboard/app.js');
    assert.deepEqual(results, [JSON.stringify([['snapshot', '{"a":1}'], ['snapshot', '{"b":\n2}'], ['message', 'plain']])]);
  });

  it('shows a labelled container’s route as it starts, without reloading the page', async () => {
    const host = `${web}.test`;
    const snapshotsBefore = await snapshotsSeen(page);
    await runHttpd({ image: await busyboxImage(), name: web, labels: { 'berth.host': host, 'berth.port': '80' } });

    const row = route(page, host);
    await row.waitFor();
    const endpoint = row.locator('[data-testid="endpoint"]');
    assert.equal(await endpoint.getAttribute('data-container'), web);
    assert.equal(await endpoint.getAttribute('data-ready'), 'true');
    assert.equal(await card(page, web).getAttribute('data-routed'), 'true');
    await page.locator('[data-testid="change"]', { hasText: `${host} /` }).first().waitFor();

    assert.deepEqual(await pageLoad(page), load, 'the page was reloaded');
    assert.ok((await snapshotsSeen(page)) > snapshotsBefore, 'no new snapshot reached the page');
  });

  it('says why a container with a bad port label is skipped, with the code and the fix', async () => {
    await runHttpd({ image: await busyboxImage(), name: broken, labels: { 'berth.host': `${broken}.test`, 'berth.port': 'eighty' } });

    const problem = card(page, broken).locator('[data-testid="problem"][data-code="BERTH_E_LABEL_PORT"]');
    await problem.waitFor();
    const { containers } = await berth().admin<ContainersView>('/api/containers');
    const reported = containers.find((container) => container.name === broken)?.problems.find((p) => p.code === 'BERTH_E_LABEL_PORT');
    assert.ok(reported?.fix, 'the admin API gives the problem a fix');
    assert.equal(await problem.locator('[data-testid="fix"]').innerText(), `Fix: ${reported.fix}`);
    assert.equal(await card(page, broken).getAttribute('data-routed'), 'false');
    assert.equal(await route(page, `${broken}.test`).count(), 0);
    assert.deepEqual(await pageLoad(page), load, 'the page was reloaded');
  });

  it('fits a 375 px wide phone screen without sideways scrolling, and is captured on both sizes', async () => {
    const artifacts = join(repoRoot(), 'test-artifacts');
    await mkdir(artifacts, { recursive: true });
    const desktop = join(artifacts, 'dashboard.png');
    await page.screenshot({ path: desktop, fullPage: true });
    await updateReadmeScreenshot(desktop);

    await page.setViewportSize(PHONE);
    try {
      const { scrollWidth, innerWidth } = await page.evaluate(() => {
        const w = globalThis as unknown as PageWindow;
        return { scrollWidth: w.document.documentElement.scrollWidth, innerWidth: w.innerWidth };
      });
      assert.equal(innerWidth, PHONE.width);
      assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide on a ${innerWidth} px screen`);
      for (const element of [route(page, `${web}.test`), card(page, broken)]) {
        const box = await element.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `an element sticks out of the phone screen: ${JSON.stringify(box)}`);
      }
      await page.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: true });
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('takes a stopped container’s route away, still without a reload', async () => {
    await docker('stop', web);
    await route(page, `${web}.test`).waitFor({ state: 'detached' });
    await card(page, web).waitFor({ state: 'detached' });
    await page.locator('[data-testid="change-line"][data-kind="removed"]', { hasText: `${web}.test /` }).first().waitFor();
    assert.deepEqual(await pageLoad(page), load, 'the page was reloaded');
    assertNoScriptErrors(page);
  });
});

/**
 * docs/dashboard.png, shown in the README, is committed: it is written when missing, or on
 * request (BERTH_UPDATE_SCREENSHOT=1), so that a test run does not leave the work tree changed.
 */
async function updateReadmeScreenshot(source: string): Promise<void> {
  const target = join(repoRoot(), 'docs', 'dashboard.png');
  if (existsSync(target) && process.env['BERTH_UPDATE_SCREENSHOT'] !== '1') return;
  await mkdir(join(repoRoot(), 'docs'), { recursive: true });
  await copyFile(source, target);
}

describe('the admin dashboard when berth has an admin token', async () => {
  const token = `t-${process.pid}-${Date.now()}`;
  const folder = await mkdtemp(join(tmpdir(), 'berth-dashboard-token-'));
  const routesFile = join(folder, 'routes.yml');
  const host = `${uniqueName('dash-token')}.test`;
  await writeFile(routesFile, `routes:\n  - host: ${host}\n    to: http://127.0.0.1:9001\n`);
  const browser = useBrowser();
  let berth: RunningBerth;
  let page: Page;

  before(async () => {
    berth = await startSyncedBerth(['--routes-file', routesFile], { BERTH_ADMIN_TOKEN: token });
    page = await openDashboard(browser(), berth);
  });
  after(async () => {
    await page?.context().close();
    await berth?.stop();
    await cleanup();
    await rm(folder, { recursive: true, force: true });
  });

  it('asks for the token instead of showing anything', async () => {
    await page.locator('[data-testid="token-form"]').waitFor();
    assert.equal(await page.getAttribute('[data-testid="connection"]', 'data-state'), 'token');
    assert.equal(await page.locator('[data-testid="content"]').isVisible(), false);
    assert.equal(await page.locator('[data-testid="route"]').count(), 0);
  });

  it('says so when the token is wrong, and asks again', async () => {
    await page.fill('[data-testid="token-input"]', 'not-the-token');
    await page.click('[data-testid="token-submit"]');
    await page.locator('[data-testid="token-error"]').waitFor();
    assert.equal(await page.locator('[data-testid="token-form"]').isVisible(), true);
    assert.equal(await page.locator('[data-testid="content"]').isVisible(), false);
  });

  it('shows the routes once the right token is entered, and keeps it for the tab', async () => {
    await page.fill('[data-testid="token-input"]', token);
    await page.click('[data-testid="token-submit"]');
    await route(page, host).waitFor();
    await live(page);
    assert.equal(await page.locator('[data-testid="token-form"]').isVisible(), false);

    await page.reload({ timeout: WAIT_MS });
    await route(page, host).waitFor();
    assert.equal(await page.locator('[data-testid="token-form"]').isVisible(), false);
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageWindow).sessionStorage.getItem('berth.adminToken')), token);
  });

  it('shows that the stream dropped when berth goes away', async () => {
    await berth.stop();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    assert.equal(await route(page, host).count(), 1, 'the last routes stay on screen');
    assertNoScriptErrors(page);
  });
});
