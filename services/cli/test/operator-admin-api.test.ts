import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { freePort, makeMessage, RedisServer, sendMail, waitFor } from '@mailbus/testing';
import { mailbus, MailbusProcess, workDir } from './mailbus-process.js';
import { CONNECTOR_SUMMARY_KEYS } from './connector-summary-keys.js';

/**
 * docs/admin.md and docs/errors.md's admin API, met as an operator meets it:
 * one `mailbus start` (every role, a real Redis), curl-like HTTP requests,
 * the `mailbus queue`/`track` commands beside it. Each answer and error code
 * of the pages' tables, against the running process, not an embedded admin.
 */

const TOKEN = 'op-token';
const PASSWORD = 'op password';
const BASIC = `Basic ${Buffer.from(`operator:${PASSWORD}`).toString('base64')}`;
const env = { MAILBUS_TEST_TOKEN: TOKEN, MAILBUS_TEST_PASSWORD: PASSWORD };

interface ErrorBody {
  error: { code: string; message: string };
}
interface Listed {
  jobId: string;
  queueId: string;
  state: string;
  sender: string;
  recipients: string[];
  receivedAt: string;
  receivedAtMs: number;
}

describe('the admin API of a running mailbus start', () => {
  let redis: RedisServer;
  let gw: MailbusProcess;
  let stall: Server;
  const stalled = new Set<Socket>();
  let base = '';
  let file = '';
  let dir = '';
  let smtp = 0;

  const api = (path: string, init: RequestInit = {}, auth = `Bearer ${TOKEN}`) =>
    fetch(`${base}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { authorization: auth, ...(init.headers as Record<string, string>) },
    });
  const json = async <T>(path: string, init: RequestInit = {}, status = 200): Promise<T> => {
    const r = await api(path, init);
    const text = await r.text();
    assert.equal(r.status, status, `${init.method ?? 'GET'} ${path}: ${text}`);
    return JSON.parse(text) as T;
  };
  const error = async (path: string, init: RequestInit, status: number, code: string) => {
    const body = await json<ErrorBody>(path, init, status);
    assert.equal(body.error.code, code, `${path}: ${body.error.message}`);
    assert.ok(body.error.message.length > 0);
    return body.error.message;
  };
  const post = (to?: unknown, raw?: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(to === undefined ? {} : { to }),
  });
  const send = async (to: string, subject: string) => {
    const r = await sendMail({
      port: smtp,
      from: 'a@sender.test',
      to: [to],
      raw: makeMessage({ from: 'a@sender.test', to, subject, messageId: `<${subject}@ops.test>` }),
    });
    const id = /queued as (\S+)/.exec(r.response)?.[1];
    assert.ok(id, r.response);
    return id;
  };
  const list = (connector: string, query = '') =>
    json<{ messages: Listed[] }>(`/api/connectors/${connector}/messages${query}`).then(
      (b) => b.messages,
    );

  before(async () => {
    redis = await RedisServer.start();
    // A smart host that accepts the connection and never greets: its job stays active.
    stall = createServer((s) => {
      stalled.add(s);
      s.on('close', () => stalled.delete(s));
    });
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    const stallPort = (stall.address() as { port: number }).port;
    const [http, dead] = await Promise.all([freePort(), freePort()]);
    smtp = await freePort();
    ({ dir, config: file } = workDir(`
redis: { url: "${redis.url}" }
admin:
  listen: "127.0.0.1:${http}"
  tokenEnv: MAILBUS_TEST_TOKEN
  basicAuth: { username: operator, passwordEnv: MAILBUS_TEST_PASSWORD }
routingGroups: [First, Second]   # labels only: no sites
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.ops.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${dead}"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
  - { name: Backup, smartHosts: ["[127.0.0.1]:${dead}"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 2 }] }
  - { name: Stall, smartHosts: ["[127.0.0.1]:${stallPort}"], bridgeheads: [default], addressSpaces: [{ domain: stall.example }] }
`));
    base = `http://127.0.0.1:${http}`;
    gw = MailbusProcess.spawn(['start', '--config', file], { cwd: dir, env });
    await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
  });

  after(async () => {
    for (const s of stalled) s.destroy();
    stall?.close();
    await gw?.stop();
    await redis?.close();
  });

  test('probes are open: /healthz {"status":"ok"}, /readyz 200, /metrics Prometheus text', async () => {
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok' });
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    const text = await m.text();
    assert.match(text, /^mailbus_queue_depth\{connector="Internet",state="waiting"\} 0$/m);
    assert.match(text, /^mailbus_queue_oldest_age_seconds\{connector="Internet"\} 0$/m);
    assert.match(text, /^mailbus_connector_up\{connector="Internet"\} 1$/m);
  });

  test('GET /api/connectors without routing groups as sites: { connectors: [...] }, each the summary it was before sites', async () => {
    const body = (await (await api('/api/connectors')).json()) as {
      connectors: Array<Record<string, unknown>>;
    };
    assert.deepEqual(Object.keys(body), ['connectors']);
    assert.deepEqual(
      body.connectors.map((c) => c.name),
      ['Internet', 'Backup', 'Stall', '@local'],
    );
    for (const c of body.connectors) {
      // The API adds the milliseconds beside a time (oldestReceivedAtMs), as it always did.
      const keys = Object.keys(c).filter((k) => k !== 'oldestReceivedAtMs');
      assert.deepEqual(keys.sort(), CONNECTOR_SUMMARY_KEYS);
    }
  });

  test('authentication: 401 MAILBUS_ERR_ADMIN_UNAUTHORIZED with a Basic challenge; Bearer, Basic and the ?token= cookie let in; a browser gets a sign-in page', async () => {
    for (const auth of [
      '',
      'Bearer wrong',
      `Basic ${Buffer.from('operator:x').toString('base64')}`,
    ]) {
      const r = await api('/api/connectors', {}, auth);
      assert.equal(r.status, 401, auth);
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="mailbus"');
      assert.equal(((await r.json()) as ErrorBody).error.code, 'MAILBUS_ERR_ADMIN_UNAUTHORIZED');
    }
    assert.equal((await api('/api/connectors')).status, 200);
    assert.equal((await api('/api/connectors', {}, BASIC)).status, 200);
    const login = await fetch(`${base}/queues?token=${TOKEN}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/queues');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^mailbus_admin=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    assert.ok(!cookie.includes(TOKEN), 'the cookie is not the token');
    const session = cookie.split(';')[0] ?? '';
    const board = await fetch(`${base}/queues`, { headers: { cookie: session } });
    assert.equal(board.status, 200);
    const html = await board.text();
    assert.doesNotMatch(html, /fonts\.googleapis|fonts\.gstatic/, 'nothing loaded from outside');
    const viaCookie = await fetch(`${base}/api/connectors`, { headers: { cookie: session } });
    assert.equal(viaCookie.status, 200);
    // Bull Board is read-only: every queue says so, and its own write endpoints refuse.
    const boardApi = (path: string, method = 'GET') =>
      fetch(`${base}/queues/api/${path}`, { method, headers: { cookie: session } });
    const queues = (await (await boardApi('queues')).json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean }>;
    };
    assert.ok(queues.queues.length >= 4, JSON.stringify(queues.queues.map((q) => q.name)));
    for (const q of queues.queues) assert.equal(q.readOnlyMode, true, q.name);
    const internet = encodeURIComponent('{Internet}');
    assert.equal((await boardApi(`queues/${internet}/retry/failed`, 'PUT')).status, 405);
    assert.equal((await boardApi(`queues/${internet}/clean/delayed`, 'PUT')).status, 405);
    assert.equal((await boardApi(`queues/${internet}/add`, 'POST')).status, 405);
    await boardApi('queues/pause', 'PUT');
    assert.equal((await json<{ frozen: boolean }>('/api/connectors/Internet')).frozen, false);
    const browser = await fetch(`${base}/queues`, { headers: { accept: 'text/html' } });
    assert.equal(browser.status, 401);
    assert.match(browser.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await browser.text(), /<input type="password" name="token"/);
  });

  test('freeze, list, move, move a queue, look up, delete with DSN, retry, unfreeze: each answers as admin.md shows', async () => {
    assert.deepEqual(await json('/api/connectors/Internet/freeze', { method: 'POST' }), {
      connector: 'Internet',
      frozen: true,
    });
    assert.deepEqual(await json('/api/connectors/backup/freeze', { method: 'POST' }), {
      connector: 'Backup',
      frozen: true,
    });
    const queueId = await send('b@far.example', 'admin-journey');
    const status = await json<{ name: string; frozen: boolean; depth: { waiting: number } }>(
      '/api/connectors/internet',
    );
    assert.equal(status.name, 'Internet', 'connector names are case-insensitive');
    assert.equal(status.frozen, true);
    assert.equal(status.depth.waiting, 1);
    const [listed] = await list('Internet', '?state=waiting&limit=1&offset=0');
    assert.ok(listed);
    assert.equal(listed.state, 'waiting');
    assert.equal(listed.queueId, queueId);
    assert.deepEqual(listed.recipients, ['b@far.example']);
    assert.equal(new Date(listed.receivedAtMs).toISOString(), listed.receivedAt);
    assert.deepEqual(await list('Internet', '?state=failed'), []);
    // The gauges are read at most once a second.
    await waitFor(
      async () =>
        /^mailbus_queue_depth\{connector="Internet",state="waiting"\} 1$/m.test(
          await (await fetch(`${base}/metrics`)).text(),
        ),
      { timeoutMs: 10_000, what: 'mailbus_queue_depth waiting 1 for Internet' },
    );

    const moved = await json<{ jobId: string }>(
      `/api/connectors/Internet/messages/${listed.jobId}/move`,
      post('Backup'),
    );
    const [onBackup] = await list('Backup');
    assert.equal(onBackup?.jobId, `${listed.jobId}m`, JSON.stringify(moved));
    assert.deepEqual(await json('/api/connectors/Backup/move', post('Internet')), {
      from: 'Backup',
      to: 'Internet',
      moved: 1,
      skipped: 0,
    });
    for (const id of [queueId, '<admin-journey@ops.test>', '%3Cadmin-journey@ops.test%3E']) {
      const found = await json<{ messages: Array<{ history: Array<{ type: string }> }> }>(
        `/api/messages/${id.replace('<', '%3C').replace('>', '%3E')}`,
      );
      const types = found.messages[0]?.history.map((e) => e.type) ?? [];
      assert.ok(types.includes('moved'), `${id}: ${types.join(',')}`);
    }

    const [back] = await list('Internet');
    assert.ok(back);
    await json(`/api/connectors/Internet/messages/${back.jobId}?dsn=true`, { method: 'DELETE' });
    const history = await json<{ messages: Array<{ history: Array<{ type: string }> }> }>(
      `/api/messages/${queueId}`,
    );
    assert.ok(history.messages[0]?.history.some((e) => e.type === 'deleted'));
    // The non-delivery report to the sender is queued (Internet is frozen: it waits there).
    const [report] = await list('Internet');
    assert.equal(report?.sender, '');
    assert.deepEqual(report?.recipients, ['a@sender.test']);

    const retried = await json<{ connector: string; promoted: number; retried: number }>(
      '/api/connectors/Internet/retry',
      { method: 'POST' },
    );
    assert.deepEqual(Object.keys(retried).sort(), ['connector', 'promoted', 'retried']);
    const unfrozen = await api('/api/connectors/Internet/unfreeze', { method: 'POST' }, BASIC);
    assert.deepEqual(await unfrozen.json(), { connector: 'Internet', frozen: false });

    // Each change is logged at info: action, connector, the job, and who (token or the Basic user).
    await gw.waitForOutput('"msg":"admin unfreeze"');
    const audit = gw.output
      .split('\n')
      .filter((l) => l.includes('"category":"queue"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((l) => [l.msg, l.action, l.connector, l.user, l.level]);
    for (const want of [
      ['admin freeze', 'freeze', 'Internet', 'token', 'info'],
      ['admin move', 'move', 'Internet', 'token', 'info'],
      ['admin move-queue', 'move-queue', 'Backup', 'token', 'info'],
      ['admin delete', 'delete', 'Internet', 'token', 'info'],
      ['admin retry', 'retry', 'Internet', 'token', 'info'],
      ['admin unfreeze', 'unfreeze', 'Internet', 'operator', 'info'],
    ])
      assert.ok(
        audit.some((a) => JSON.stringify(a) === JSON.stringify(want)),
        `${JSON.stringify(want)} in ${JSON.stringify(audit)}`,
      );
    const deleted = gw.output.split('\n').find((l) => l.includes('"msg":"admin delete"')) ?? '';
    assert.match(deleted, new RegExp(`"jobId":"${back.jobId.replace(/\./g, '\\.')}"`));
  });

  test("every error of admin.md's table, with its HTTP status, from the running process", async () => {
    await error('/api/connectors/Nope', {}, 404, 'MAILBUS_ERR_UNKNOWN_CONNECTOR');
    await error(
      '/api/connectors/Nope/freeze',
      { method: 'POST' },
      404,
      'MAILBUS_ERR_UNKNOWN_CONNECTOR',
    );
    // A limit out of range is BAD_ARGUMENT; a value of the wrong kind is a malformed request.
    for (const q of ['?limit=0', '?limit=1001'])
      await error(`/api/connectors/Internet/messages${q}`, {}, 400, 'MAILBUS_ERR_BAD_ARGUMENT');
    for (const q of ['?state=bogus', '?limit=many', '?offset=-1'])
      await error(
        `/api/connectors/Internet/messages${q}`,
        {},
        400,
        'MAILBUS_ERR_ADMIN_BAD_REQUEST',
      );
    await error(
      '/api/connectors/Internet/messages/NOPE.0.1',
      { method: 'DELETE' },
      404,
      'MAILBUS_ERR_UNKNOWN_JOB',
    );
    await error(
      '/api/connectors/Internet/messages/NOPE.0.1?dsn=maybe',
      { method: 'DELETE' },
      400,
      'MAILBUS_ERR_ADMIN_BAD_REQUEST',
    );
    await error('/api/messages/nobody@nowhere.test', {}, 404, 'MAILBUS_ERR_UNKNOWN_MESSAGE');
    await error('/api/connectors/Internet/move', post('internet'), 400, 'MAILBUS_ERR_BAD_MOVE');
    await error('/api/connectors/Internet/move', post('@local'), 400, 'MAILBUS_ERR_BAD_MOVE');
    await error('/api/connectors/@local/move', post('Internet'), 400, 'MAILBUS_ERR_BAD_MOVE');
    await error('/api/connectors/Internet/move', post(), 400, 'MAILBUS_ERR_ADMIN_BAD_REQUEST');
    await error(
      '/api/connectors/Internet/move',
      post(undefined, '{"to":'),
      400,
      'MAILBUS_ERR_ADMIN_BAD_REQUEST',
    );
    await error('/api/nothing-here', {}, 404, 'MAILBUS_ERR_ADMIN_NOT_FOUND');

    // The same mistakes from a terminal: exit 1 with the code.
    for (const [args, code] of [
      [['queue', 'move-all', 'Internet', '--to', 'Internet'], 'MAILBUS_ERR_BAD_MOVE'],
      [['queue', 'list', 'Internet', '--limit', '5000'], 'MAILBUS_ERR_BAD_ARGUMENT'],
      [['track', 'nobody@nowhere.test'], 'MAILBUS_ERR_UNKNOWN_MESSAGE'],
      // --redis wins over the config's redis.url (admin.md: Redis from --redis, else the config).
      [
        ['connector', 'status', '--redis', 'redis://127.0.0.1:1'],
        'MAILBUS_ERR_REDIS_UNREACHABLE: cannot reach Redis at redis://127\\.0\\.0\\.1:1 ',
      ],
    ] as const) {
      const r = mailbus([...args, '--config', file], { cwd: dir, env });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${code}`), args.join(' '));
    }
  });

  test('MAILBUS_ERR_JOB_ACTIVE (409): a message being delivered cannot be deleted or moved, from the API or the CLI', async () => {
    await send('x@stall.example', 'being-delivered');
    const active = await waitFor(async () => (await list('Stall', '?state=active'))[0], {
      timeoutMs: 30_000,
      what: 'the Stall job to be active',
    });
    const path = `/api/connectors/Stall/messages/${active.jobId}`;
    await error(path, { method: 'DELETE' }, 409, 'MAILBUS_ERR_JOB_ACTIVE');
    await error(`${path}/move`, post('Internet'), 409, 'MAILBUS_ERR_JOB_ACTIVE');
    const r = mailbus(['queue', 'delete', 'Stall', active.jobId, '--config', file], {
      cwd: dir,
      env,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /MAILBUS_ERR_JOB_ACTIVE/);
    for (const s of stalled) s.destroy();
  });

  test('MAILBUS_ERR_ADMIN_INTERNAL (500): an unexpected Redis answer is logged with the request; /metrics counts the failed scrape', async () => {
    const c = redis.client();
    try {
      // A link-state hash that is not a hash: every status read fails with WRONGTYPE.
      await c.set('mailbus:link:{c:Internet}', 'not a hash');
      await c.sadd('mailbus:links', 'Internet');
      const message = await error('/api/connectors', {}, 500, 'MAILBUS_ERR_ADMIN_INTERNAL');
      assert.match(message, /WRONGTYPE/);
      await gw.waitForOutput('admin request failed');
      await waitFor(
        async () =>
          /^mailbus_metrics_collect_errors_total(\{[^}]*\})? [1-9]/m.test(
            await (await fetch(`${base}/metrics`)).text(),
          ),
        { timeoutMs: 10_000, what: 'mailbus_metrics_collect_errors_total to count the scrape' },
      );
    } finally {
      await c.del('mailbus:link:{c:Internet}');
      c.disconnect();
    }
    assert.equal((await api('/api/connectors')).status, 200);
  });

  test('/readyz answers 503 once Redis is gone, /healthz stays 200', async () => {
    await redis.close();
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, {
      timeoutMs: 15_000,
      what: '/readyz to answer 503',
    });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });
});
