import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { RedisServer } from '@mailbus/testing';
import { BASIC, TOKEN, startAdmin, type AdminFixture } from './admin-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: RedisServer | undefined;
let f: AdminFixture | undefined;
let browser: Browser | undefined;

/** Every host a page asked for: the board must load nothing from outside this server. */
async function watchHosts(context: BrowserContext): Promise<Set<string>> {
  const hosts = new Set<string>();
  await context.route('**/*', async (route) => {
    const host = new URL(route.request().url()).hostname;
    hosts.add(host);
    if (host === '127.0.0.1') await route.continue();
    else await route.abort('blockedbyclient');
  });
  return hosts;
}

before(async () => {
  if (!existsSync(CHROMIUM)) return;
  server = await RedisServer.start();
  f = await startAdmin(server);
  await f.submit(['Internet']);
  await f.submit(['Internet']);
  await f.submit(['Internet']);
  await f.submit(['Backup']);
  await f.submit(['Partner']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => {
  await browser?.close();
  await f?.close();
  await server?.close();
});

test('an operator logs in to Bull Board with basic auth and sees every connector queue with its counts', async (t) => {
  if (!browser || !f) {
    t.skip(`no Chromium at ${CHROMIUM} (installed from Debian by .ci/run)`);
    return;
  }
  const context = await browser.newContext({
    httpCredentials: BASIC,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const hosts = await watchHosts(context);
    const page = await context.newPage();
    const res = await page.goto(`${f.base}/queues`);
    assert.equal(res?.status(), 200);
    // The dashboard lists each queue by one name, in the sidebar and on its card.
    for (const name of ['Internet', 'Internet#1', 'Backup', 'Partner', '@local']) {
      await page.getByText(name, { exact: true }).nth(1).waitFor({ timeout: 15_000 });
    }
    await page.screenshot({ path: '/tmp/mailbus-bull-board.png', fullPage: true });
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /\{/, 'no Redis hash-tag braces anywhere on the page');
    assert.deepEqual([...hosts], ['127.0.0.1'], 'nothing was requested from outside the server');
    const sidebar = await page.locator('nav, aside').first().innerText();
    for (const name of ['Internet', 'Internet#1', 'Backup', 'Partner', '@local'])
      assert.match(sidebar, new RegExp(`^${name}$`, 'm'), `sidebar lists ${name}`);
    // Counts: the three Internet messages split over its two partitions, one delayed on Backup and Partner.
    const api = (await (await context.request.get(`${f.base}/queues/api/queues`)).json()) as {
      queues: Array<{ name: string; counts: Record<string, number> }>;
    };
    const counts = new Map(api.queues.map((q) => [q.name, q.counts]));
    assert.equal(
      (counts.get('{Internet}')?.waiting ?? 0) + (counts.get('{Internet#1}')?.waiting ?? 0),
      3,
    );
    assert.equal(counts.get('{Backup}')?.delayed, 1);
    assert.equal(counts.get('{Partner}')?.delayed, 1);
    assert.match(text, /mailbus · Contoso/);
    // The overview's WAITING tab counts the three Internet messages; each card shows its jobs.
    assert.match(text, /waiting\s*3/i);
    assert.match(text, /Internet#1[\s\S]*?\d+ Jobs?/);

    // Open the Backup queue's delayed tab: its job is listed.
    await page.goto(`${f.base}/queues/queue/${encodeURIComponent('{Backup}')}?status=delayed`);
    await page
      .getByText(/\.0\.0/)
      .first()
      .waitFor({ timeout: 15_000 });
    await page.screenshot({ path: '/tmp/mailbus-bull-board-backup.png', fullPage: true });
    // The queue's title and description name the connector, never the Redis key (the job's
    // data below is JSON, braces and all).
    const title = await page.locator('header').first().innerText();
    assert.match(title, /Backup/);
    assert.doesNotMatch(title, /\{/, title);
    // Read-only: no button that would change a job behind mailbus's back (no tracking, no audit).
    const buttons = (await page.getByRole('button').allInnerTexts()).join('|');
    assert.doesNotMatch(buttons, /promote|retry|delete|remove|clean|duplicate|add job/i, buttons);
  } finally {
    await context.close();
  }
});

test('without credentials the browser is challenged for Basic auth and never sees the board', async (t) => {
  if (!browser || !f) {
    t.skip(`no Chromium at ${CHROMIUM}`);
    return;
  }
  const context = await browser.newContext();
  try {
    const res = await context.request.get(`${f.base}/queues`);
    assert.equal(res.status(), 401);
    assert.equal(res.headers()['www-authenticate'], 'Basic realm="mailbus"');
    const html = await context.request.get(`${f.base}/queues`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(html.status(), 401);
    assert.match(html.headers()['content-type'] ?? '', /^text\/html/);
    assert.match(await html.text(), /Sign in required[\s\S]*user name and password/);
    const page = await context.newPage();
    // Headless Chromium has no prompt to show: it fails the navigation on the challenge.
    await assert.rejects(page.goto(`${f.base}/queues`), /ERR_INVALID_AUTH_CREDENTIALS/);
  } finally {
    await context.close();
  }
});

test('opening /queues?token= once logs the browser in with a session cookie', async (t) => {
  if (!browser || !f) {
    t.skip(`no Chromium at ${CHROMIUM}`);
    return;
  }
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const res = await page.goto(`${f.base}/queues?token=${encodeURIComponent(TOKEN)}`);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(page.url()).search, '', 'the token is gone from the address bar');
    await page.getByText('Internet#1', { exact: true }).first().waitFor({ timeout: 15_000 });
    const [cookie] = await context.cookies();
    assert.equal(cookie?.name, 'mailbus_admin');
    assert.equal(cookie?.httpOnly, true);
    assert.equal((await page.goto(`${f.base}/queues`))?.status(), 200);
  } finally {
    await context.close();
  }
});

test('a browser without a token gets a sign-in page, not JSON; the token entered there opens the board', async (t) => {
  if (!browser || !server) {
    t.skip(`no Chromium at ${CHROMIUM}`);
    return;
  }
  const tokenOnly = await startAdmin(server, { auth: { token: TOKEN } });
  const context = await browser.newContext();
  try {
    const hosts = await watchHosts(context);
    const page = await context.newPage();
    const res = await page.goto(`${tokenOnly.base}/queues`);
    assert.equal(res?.status(), 401);
    await page.screenshot({ path: '/tmp/mailbus-admin-login.png' });
    assert.match(await page.locator('body').innerText(), /Sign in required/);
    await page.getByLabel('Admin token').fill(TOKEN);
    await Promise.all([
      page.waitForURL(/\/queues$/),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.getByText('Backup', { exact: true }).first().waitFor({ timeout: 15_000 });
    assert.deepEqual([...hosts], ['127.0.0.1']);
    // An API client (no cookie, no text/html) still gets the JSON error with its code.
    const bare = await fetch(`${tokenOnly.base}/api/connectors`);
    assert.equal(bare.status, 401);
    assert.equal(
      ((await bare.json()) as { error?: { code?: string } }).error?.code,
      'MAILBUS_ERR_ADMIN_UNAUTHORIZED',
    );
  } finally {
    await context.close();
    await tokenOnly.close();
  }
});
