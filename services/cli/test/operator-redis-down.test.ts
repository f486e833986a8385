import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, RedisServer } from '@mailbus/testing';
import { mailbus, MailbusProcess, mailbusTimed, workDir } from './mailbus-process.js';

function config(smtp: number, http: number, redisUrl?: string): string {
  return `
${redisUrl ? `redis: { url: "${redisUrl}" }` : ''}
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.down.test }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`;
}

describe('Redis unreachable or stalled', () => {
  test('mailbus start and route --redis fail within 15 s with MAILBUS_ERR_REDIS_UNREACHABLE naming the address and the reason', async (t) => {
    const { dir, config: file } = workDir(config(await freePort(), await freePort()));
    const env = { MAILBUS_REDIS_URL: 'redis://127.0.0.1:1', MAILBUS_TEST_TOKEN: 'secret' };
    for (const args of [
      ['start', '--config', file],
      ['route', '--config', file, '--from', 'a@b.test', '--to', 'c@d.test', '--redis'],
      ['queue', 'list', 'Internet', '--config', file],
    ]) {
      const r = await mailbusTimed(args, { cwd: dir, env, timeoutMs: 30_000 });
      assert.equal(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      // On its own clock: at load 30 most of the wall time is spent waiting for a CPU.
      t.diagnostic(`${args[0]}: ${r.ownMs} ms of its own time, ${r.ms} ms of wall time`);
      assert.ok(r.ownMs < 15_000, `${args[0]} took ${r.ownMs} ms of its own (${r.ms} ms wall)`);
      assert.match(
        r.stderr,
        /^MAILBUS_ERR_REDIS_UNREACHABLE: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 within 5 s: connect ECONNREFUSED 127\.0\.0\.1:1\n$/,
      );
    }
  });

  test('the admin API answers 503 with the error code within a few seconds while Redis is stalled, and refuses to start without a secret', async () => {
    const redis = await RedisServer.start();
    const http = await freePort();
    const { dir, config: file } = workDir(config(await freePort(), http, redis.url));
    // --role admin, or every role on a configured Redis: only the embedded default makes a token.
    for (const roles of [['--role', 'admin'], []]) {
      const refused = mailbus(['start', '--config', file, ...roles], {
        cwd: dir,
        env: { MAILBUS_TEST_TOKEN: '' },
      });
      assert.equal(refused.status, 1, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /^MAILBUS_ERR_ADMIN_NO_AUTH: /m);
    }
    const admin = MailbusProcess.spawn(['start', '--config', file, '--role', 'admin'], {
      cwd: dir,
      env: { MAILBUS_TEST_TOKEN: 'secret' },
    });
    const c = redis.client();
    try {
      await admin.waitForOutput('mailbus running');
      const api = () =>
        fetch(`http://127.0.0.1:${http}/api/connectors`, {
          headers: { authorization: 'Bearer secret' },
        });
      assert.equal((await api()).status, 200);
      // Without basicAuth configured the challenge is Bearer (docs/admin.md).
      const anonymous = await fetch(`http://127.0.0.1:${http}/api/connectors`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="mailbus"');
      await c.call('CLIENT', 'PAUSE', '8000', 'ALL');
      const t0 = Date.now();
      const stalled = await api();
      assert.ok(Date.now() - t0 < 6000, `answered after ${Date.now() - t0} ms`);
      assert.equal(stalled.status, 503);
      const body = (await stalled.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'MAILBUS_ERR_REDIS_UNREACHABLE');
    } finally {
      await c.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      c.disconnect();
      await admin.stop();
      await redis.close();
    }
  });
});
