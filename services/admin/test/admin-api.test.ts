import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUEUE_OPERATION_ERROR_CODES, jobId } from '@mailbus/queue';
import { Metrics, createLogger } from '@mailbus/telemetry';
import { RedisServer } from '@mailbus/testing';
import { ADMIN_ERROR_CODES, AdminError, createAdmin } from '../src/index.js';
import { BASIC, TOKEN, adminConfig, startAdmin, type AdminFixture } from './admin-fixture.js';

const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = {
  authorization: `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`,
};
const json = { 'content-type': 'application/json' };

interface ErrorBody {
  error: { code: string; message: string };
}

async function call(
  f: AdminFixture,
  method: string,
  path: string,
  headers: Record<string, string> = bearer,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const res = await fetch(`${f.base}${path}`, {
    method,
    headers: body !== undefined ? { ...headers, ...json } : headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    redirect: 'manual',
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

function errorCode(body: unknown): string | undefined {
  return (body as ErrorBody | undefined)?.error?.code;
}

let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(async () => {
  await server.close();
});

/** Every authenticated route, with a request that would otherwise succeed or fail on its input. */
const PROTECTED: Array<[string, string, unknown?]> = [
  ['GET', '/api/connectors'],
  ['GET', '/api/connectors/Internet'],
  ['POST', '/api/connectors/Internet/freeze'],
  ['POST', '/api/connectors/Internet/unfreeze'],
  ['POST', '/api/connectors/Internet/retry'],
  ['GET', '/api/connectors/Internet/messages?state=waiting'],
  ['DELETE', '/api/connectors/Internet/messages/X.0.0?dsn=false'],
  ['POST', '/api/connectors/Internet/messages/X.0.0/move', { to: 'Backup' }],
  ['POST', '/api/connectors/Internet/move', { to: 'Backup' }],
  ['GET', '/api/messages/X'],
  ['GET', '/queues'],
  ['GET', '/queues/api/queues'],
  ['GET', '/no/such/route'],
];

describe('admin: start', () => {
  test('refuses to start without a token or basic auth, naming admin.tokenEnv', async () => {
    const config = adminConfig('noauth');
    for (const auth of [{}, { token: '' }, { basicAuth: { username: 'u', password: '' } }]) {
      await assert.rejects(
        createAdmin({
          config,
          // Never reached: the check comes first.
          queue: undefined as never,
          ops: undefined as never,
          metrics: new Metrics({ processMetrics: false }),
          logger: createLogger({ level: 'silent', name: 'admin' }),
          isReady: async () => true,
          ...auth,
        }),
        (e: unknown) =>
          e instanceof AdminError &&
          e.code === 'MAILBUS_ERR_ADMIN_NO_AUTH' &&
          /admin\.tokenEnv \(MAILBUS_ADMIN_TOKEN\)/.test(e.message),
      );
    }
  });

  test('close is idempotent', async () => {
    const f = await startAdmin(server);
    await Promise.all([f.admin.close(), f.admin.close()]);
    await f.admin.close();
    assert.equal(f.admin.address(), null);
    await f.queue.close();
    f.redis.disconnect();
  });
});

describe('admin: probes and metrics', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdmin(server);
  });
  after(async () => {
    await f.close();
  });

  test('/healthz answers 200 without authentication', async () => {
    const r = await call(f, 'GET', '/healthz', {});
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
  });

  test('/readyz answers 200 when ready and 503 when not, without authentication', async () => {
    assert.equal((await call(f, 'GET', '/readyz', {})).status, 200);
    f.ready.value = false;
    try {
      const r = await call(f, 'GET', '/readyz', {});
      assert.equal(r.status, 503);
      assert.deepEqual(r.body, { status: 'not ready' });
    } finally {
      f.ready.value = true;
    }
  });

  test('/metrics serves Prometheus text with queue depth per connector and state, without authentication', async () => {
    await f.submit(['Internet']);
    await f.submit(['Backup']);
    await f.submit(['Partner']);
    const r = await call(f, 'GET', '/metrics', {});
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(r.text, /^mailbus_queue_depth\{connector="Internet",state="waiting"\} 1$/m);
    assert.match(r.text, /^mailbus_queue_depth\{connector="Backup",state="delayed"\} 1$/m);
    assert.match(r.text, /^mailbus_queue_depth\{connector="Partner",state="held"\} 1$/m);
    assert.match(r.text, /^mailbus_queue_depth\{connector="@local",state="waiting"\} 0$/m);
    assert.match(r.text, /^mailbus_queue_oldest_age_seconds\{connector="Internet"\} \d+$/m);
    assert.match(r.text, /^mailbus_connector_up\{connector="Internet"\} 1$/m);
  });
});

describe('admin: readiness that hangs or throws', () => {
  test('/readyz answers 503 when the check throws or outlasts the probe timeout', async () => {
    for (const isReady of [
      () => Promise.reject(new Error('redis down')),
      () => new Promise<boolean>(() => undefined),
    ]) {
      const f = await startAdmin(server, { isReady, probeTimeoutMs: 100 });
      try {
        assert.equal((await call(f, 'GET', '/readyz', {})).status, 503);
      } finally {
        await f.close();
      }
    }
  });
});

describe('admin: authentication', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdmin(server);
  });
  after(async () => {
    await f.close();
  });

  for (const [method, path, body] of PROTECTED) {
    test(`${method} ${path} without credentials is 401 with a Basic challenge`, async () => {
      const r = await call(f, method, path, {}, body);
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="mailbus"');
      assert.equal(errorCode(r.body), 'MAILBUS_ERR_ADMIN_UNAUTHORIZED');
    });
  }

  test('a wrong token, a wrong password, an unknown user or a forged cookie is 401', async () => {
    const wrong: Array<Record<string, string>> = [
      { authorization: 'Bearer nope' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`${BASIC.username}:wrong`).toString('base64')}` },
      { authorization: `Basic ${Buffer.from(`root:${BASIC.password}`).toString('base64')}` },
      { authorization: 'Basic !!!' },
      { authorization: TOKEN },
      { cookie: 'mailbus_admin=forged' },
    ];
    for (const h of wrong)
      assert.equal((await call(f, 'GET', '/api/connectors', h)).status, 401, JSON.stringify(h));
    assert.equal((await call(f, 'GET', `/api/connectors?token=wrong`, {})).status, 401);
  });

  test('the Bearer token and HTTP Basic both authenticate', async () => {
    assert.equal((await call(f, 'GET', '/api/connectors', bearer)).status, 200);
    assert.equal((await call(f, 'GET', '/api/connectors', basic)).status, 200);
    assert.equal((await call(f, 'GET', '/queues', basic)).status, 200);
  });

  test('?token= on a Bull Board page sets an HttpOnly session cookie and redirects without the token; the cookie then authenticates', async () => {
    const r = await call(f, 'GET', `/queues?token=${encodeURIComponent(TOKEN)}`, {});
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/queues');
    const setCookie = r.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^mailbus_admin=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie never holds the token itself');
    const cookie = setCookie.split(';')[0] ?? '';
    const page = await call(f, 'GET', '/queues', { cookie });
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/i);
    assert.equal((await call(f, 'GET', '/api/connectors', { cookie })).status, 200);
  });

  test('an unknown route is 404 JSON once authenticated', async () => {
    const r = await call(f, 'GET', '/no/such/route');
    assert.equal(r.status, 404);
    assert.equal(errorCode(r.body), 'MAILBUS_ERR_ADMIN_NOT_FOUND');
  });
});

describe('admin: token only', () => {
  test('without basic auth the challenge is Bearer, and Basic credentials are refused', async () => {
    const f = await startAdmin(server, { auth: { token: TOKEN } });
    try {
      const r = await call(f, 'GET', '/api/connectors', {});
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="mailbus"');
      assert.equal((await call(f, 'GET', '/api/connectors', basic)).status, 401);
      assert.equal((await call(f, 'GET', '/api/connectors', bearer)).status, 200);
    } finally {
      await f.close();
    }
  });

  test('with basic auth only, a Bearer token is refused', async () => {
    const f = await startAdmin(server, { auth: { basicAuth: BASIC } });
    try {
      assert.equal((await call(f, 'GET', '/api/connectors', bearer)).status, 401);
      assert.equal((await call(f, 'GET', `/queues?token=${TOKEN}`, {})).status, 401);
      assert.equal((await call(f, 'GET', '/api/connectors', basic)).status, 200);
    } finally {
      await f.close();
    }
  });
});

describe('admin: REST API', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdmin(server);
  });
  after(async () => {
    await f.close();
  });

  test('GET /api/connectors lists every connector with link state, frozen and depth by reason', async () => {
    await f.submit(['Internet', 'Backup']);
    await f.submit(['Partner']);
    const r = await call(f, 'GET', '/api/connectors');
    assert.equal(r.status, 200);
    const { connectors } = r.body as {
      connectors: Array<{
        name: string;
        frozen: boolean;
        link: { state: string };
        depth: Record<string, number>;
        queues: string[];
      }>;
    };
    assert.deepEqual(
      connectors.map((c) => c.name),
      ['Internet', 'Backup', 'Partner', '@local'],
    );
    const internet = connectors[0];
    assert.deepEqual(internet?.queues, ['{Internet}', '{Internet#1}']);
    assert.equal(internet?.link.state, 'up');
    assert.equal(internet?.frozen, false);
    assert.equal(internet?.depth.waiting, 1);
    assert.equal(connectors[2]?.depth.held, 1);
    const one = await call(f, 'GET', '/api/connectors/internet');
    assert.equal((one.body as { name: string }).name, 'Internet');
    const missing = await call(f, 'GET', '/api/connectors/Nope');
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing.body), 'MAILBUS_ERR_UNKNOWN_CONNECTOR');
  });

  test('POST freeze and unfreeze pause and resume every partition', async () => {
    const r = await call(f, 'POST', '/api/connectors/Internet/freeze');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { connector: 'Internet', frozen: true });
    for (const q of f.queue.queues.all('Internet')) assert.equal(await q.isPaused(), true);
    const c = await call(f, 'GET', '/api/connectors/Internet');
    assert.equal((c.body as { frozen: boolean }).frozen, true);
    assert.deepEqual((await call(f, 'POST', '/api/connectors/Internet/unfreeze')).body, {
      connector: 'Internet',
      frozen: false,
    });
    for (const q of f.queue.queues.all('Internet')) assert.equal(await q.isPaused(), false);
    assert.equal((await call(f, 'POST', '/api/connectors/Nope/freeze')).status, 404);
    assert.equal((await call(f, 'POST', '/api/connectors/Nope/unfreeze')).status, 404);
  });

  test('POST retry promotes delayed mail and resets the link state', async () => {
    await f.submit(['Backup']);
    await f.queue.links.recordFailure(
      'Backup',
      'timeout',
      { failuresToMarkDown: 1, downFor: 60_000, maxDownFor: 3_600_000 },
      Date.now(),
    );
    const r = await call(f, 'POST', '/api/connectors/Backup/retry');
    assert.equal(r.status, 200);
    assert.equal((r.body as { promoted: number }).promoted, 1);
    const c = (await call(f, 'GET', '/api/connectors/Backup')).body as {
      link: { state: string };
      depth: Record<string, number>;
    };
    assert.equal(c.link.state, 'up');
    assert.equal(c.depth.delayed, 0);
    // Its force window also lets new mail through at once.
    const later = await f.submit(['Backup']);
    const [job] = (await f.ops.message(later))[0]?.jobs ?? [];
    assert.equal(job?.state, 'waiting');
    // Later tests expect Backup's schedule to hold mail again.
    await f.queue.forced.close('Backup');
    assert.equal((await call(f, 'POST', '/api/connectors/Nope/retry')).status, 404);
  });

  test('GET messages lists a queue by state with limit and offset; bad input is 400, an unknown connector 404', async () => {
    const a = await f.submit(['Partner'], ['p1@partner.example']);
    const b = await f.submit(['Partner'], ['p2@partner.example']);
    const r = await call(f, 'GET', '/api/connectors/Partner/messages?state=held&limit=10');
    assert.equal(r.status, 200);
    const body = r.body as {
      connector: string;
      state: string;
      messages: Array<{
        queueId: string;
        jobId: string;
        state: string;
        sender: string;
        recipients: string[];
        nextAttemptAt: string;
        nextAttemptAtMs: number;
        receivedAt: string;
        lastError: null;
      }>;
    };
    assert.equal(body.connector, 'Partner');
    const ids = body.messages.map((m) => m.queueId);
    assert.ok(ids.includes(a) && ids.includes(b));
    const m = body.messages.find((x) => x.queueId === a);
    assert.equal(m?.state, 'held');
    assert.ok(!('delayReason' in (m ?? {})), 'one word per state: no separate delay reason');
    assert.equal(m?.sender, 'alice@contoso.com');
    assert.deepEqual(m?.recipients, ['p1@partner.example']);
    assert.equal(m?.lastError, null);
    // Times in ISO 8601, the epoch milliseconds beside them.
    assert.match(String(m?.nextAttemptAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(new Date(m?.nextAttemptAt ?? '').getTime(), m?.nextAttemptAtMs);
    assert.match(String(m?.receivedAt), /Z$/);
    const page = await call(f, 'GET', '/api/connectors/Partner/messages?limit=1&offset=1');
    assert.equal((page.body as { messages: unknown[] }).messages.length, 1);
    for (const q of ['state=bogus', 'limit=abc', 'limit=0', 'limit=5000', 'offset=-1']) {
      const bad = await call(f, 'GET', `/api/connectors/Partner/messages?${q}`);
      assert.equal(bad.status, 400, q);
      assert.match(errorCode(bad.body) ?? '', /^MAILBUS_ERR_(ADMIN_BAD_REQUEST|BAD_ARGUMENT)$/, q);
    }
    assert.equal((await call(f, 'GET', '/api/connectors/Nope/messages')).status, 404);
  });

  test('DELETE removes a message without DSN, or with one when dsn=true; unknown job 404, bad dsn 400', async () => {
    const a = await f.submit(['Backup']);
    const r = await call(
      f,
      'DELETE',
      `/api/connectors/Backup/messages/${jobId(a, 0, 0)}?dsn=false`,
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      connector: 'Backup',
      queueId: a,
      jobId: jobId(a, 0, 0),
      dsn: false,
    });
    assert.equal(await f.queue.store.exists(a), false);
    assert.equal(f.dsns.length, 0);

    const b = await f.submit(['Backup']);
    const d = await call(f, 'DELETE', `/api/connectors/Backup/messages/${jobId(b, 0, 0)}?dsn=true`);
    assert.equal(d.status, 200);
    assert.equal(f.dsns.length, 1);
    assert.equal(f.dsns[0]?.job.messageId, b);

    const gone = await call(f, 'DELETE', `/api/connectors/Backup/messages/${jobId(b, 0, 0)}`);
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone.body), 'MAILBUS_ERR_UNKNOWN_JOB');
    const bad = await call(
      f,
      'DELETE',
      `/api/connectors/Backup/messages/${jobId(b, 0, 0)}?dsn=maybe`,
    );
    assert.equal(bad.status, 400);
    assert.equal((await call(f, 'DELETE', `/api/connectors/Nope/messages/x.0.0`)).status, 404);
  });

  test('POST move moves one message; a missing or unknown target is 400 or 404, moving to itself 400', async () => {
    const a = await f.submit(['Internet', 'Backup']);
    const old = jobId(a, 0, 0);
    const r = await call(f, 'POST', `/api/connectors/Internet/messages/${old}/move`, bearer, {
      to: 'Partner',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      queueId: a,
      from: 'Internet',
      to: 'Partner',
      oldJobId: old,
      newJobId: `${old}m`,
    });
    const found = await f.ops.message(a);
    assert.deepEqual(
      found[0]?.jobs.map((j) => [j.connector, j.jobId, j.plan]),
      // The target first, the message's own candidates after it.
      [['Partner', `${old}m`, ['Partner', 'Internet', 'Backup']]],
    );
    const missingTo = await call(
      f,
      'POST',
      `/api/connectors/Partner/messages/${old}m/move`,
      bearer,
      {},
    );
    assert.equal(missingTo.status, 400);
    assert.equal(errorCode(missingTo.body), 'MAILBUS_ERR_ADMIN_BAD_REQUEST');
    const noBody = await call(f, 'POST', `/api/connectors/Partner/messages/${old}m/move`, bearer);
    assert.equal(noBody.status, 400);
    const malformed = await fetch(`${f.base}/api/connectors/Partner/messages/${old}m/move`, {
      method: 'POST',
      headers: { ...bearer, ...json },
      body: '{"to":',
    });
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(await malformed.json()), 'MAILBUS_ERR_ADMIN_BAD_REQUEST');
    const unknownTo = await call(
      f,
      'POST',
      `/api/connectors/Partner/messages/${old}m/move`,
      bearer,
      { to: 'Nope' },
    );
    assert.equal(unknownTo.status, 404);
    const itself = await call(f, 'POST', `/api/connectors/Partner/messages/${old}m/move`, bearer, {
      to: 'partner',
    });
    assert.equal(itself.status, 400);
    assert.equal(errorCode(itself.body), 'MAILBUS_ERR_BAD_MOVE');
    const unknownJob = await call(
      f,
      'POST',
      `/api/connectors/Partner/messages/nope.0.0/move`,
      bearer,
      { to: 'Backup' },
    );
    assert.equal(unknownJob.status, 404);
  });

  test('POST move on a connector moves its whole queue', async () => {
    await f.submit(['Internet']);
    await f.submit(['Internet']);
    const before = (
      (await call(f, 'GET', '/api/connectors/Internet')).body as { depth: { waiting: number } }
    ).depth.waiting;
    assert.ok(before >= 2);
    const r = await call(f, 'POST', '/api/connectors/Internet/move', bearer, { to: 'Backup' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { from: 'Internet', to: 'Backup', moved: before, skipped: 0 });
    assert.equal(
      ((await call(f, 'GET', '/api/connectors/Internet')).body as { depth: { waiting: number } })
        .depth.waiting,
      0,
    );
    assert.equal(
      (await call(f, 'POST', '/api/connectors/Internet/move', bearer, { to: '@local' })).status,
      400,
    );
    assert.equal(
      (await call(f, 'POST', '/api/connectors/Internet/move', bearer, { to: 'Nope' })).status,
      404,
    );
    assert.equal(
      (await call(f, 'POST', '/api/connectors/Internet/move', bearer, { to: 42 })).status,
      400,
    );
  });

  test('GET /api/messages/:id finds a message by queue id, Message-ID or recipient; unknown is 404', async () => {
    const a = await f.submit(['Backup'], ['lookup@example.net']);
    for (const term of [a, `<${a.toLowerCase()}@contoso.com>`, 'lookup@example.net']) {
      const r = await call(f, 'GET', `/api/messages/${encodeURIComponent(term)}`);
      assert.equal(r.status, 200, term);
      const body = r.body as {
        messages: Array<{
          queueId: string;
          history: Array<{ type: string }>;
          jobs: Array<{ connector: string; state: string }>;
        }>;
      };
      assert.equal(body.messages[0]?.queueId, a);
      assert.deepEqual(
        body.messages[0]?.history.map((e) => e.type),
        ['received'],
      );
      assert.deepEqual(
        body.messages[0]?.jobs.map((j) => [j.connector, j.state]),
        [['Backup', 'delayed']],
      );
    }
    const missing = await call(f, 'GET', '/api/messages/nobody%40nowhere.example');
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing.body), 'MAILBUS_ERR_UNKNOWN_MESSAGE');
  });

  test('Bull Board lists every partition queue of every connector and @local', async () => {
    const r = await call(f, 'GET', '/queues/api/queues', basic);
    assert.equal(r.status, 200);
    const names = (r.body as { queues: Array<{ name: string; displayName?: string }> }).queues
      .map((q) => q.name)
      .sort();
    assert.deepEqual(names, ['{@local}', '{Backup}', '{Internet#1}', '{Internet}', '{Partner}']);
  });
});

describe('admin: DSN not wired', () => {
  test('DELETE with dsn=true is 501 and leaves the message when no sendDsn was given', async () => {
    const f = await startAdmin(server, { noDsn: true });
    try {
      const a = await f.submit(['Backup']);
      const r = await call(
        f,
        'DELETE',
        `/api/connectors/Backup/messages/${jobId(a, 0, 0)}?dsn=true`,
      );
      assert.equal(r.status, 501);
      assert.equal(errorCode(r.body), 'MAILBUS_ERR_DSN_NOT_WIRED');
      assert.equal(await f.queue.store.exists(a), true);
    } finally {
      await f.close();
    }
  });
});

describe('admin: docs', () => {
  test('every error code is documented in docs/admin.md', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = process.env.MAILBUS_REPO_ROOT ?? resolve(here, '../../../..');
    const doc = readFileSync(resolve(root, 'docs/admin.md'), 'utf8');
    const missing = [...ADMIN_ERROR_CODES, ...QUEUE_OPERATION_ERROR_CODES].filter(
      (c) => !doc.includes(`\`${c}\``),
    );
    assert.deepEqual(missing, []);
  });
});
