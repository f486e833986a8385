import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '@mailbus/testing';
import { mailbus, workDir } from './mailbus-process.js';

test('mailbus start with no Redis configured and no redis-server on the PATH fails at once, saying what to install or configure', async () => {
  const smtp = await freePort();
  const { dir, config } = workDir(`
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.embedded.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:2525"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
  const r = mailbus(['start', '--config', config], {
    cwd: dir,
    env: { PATH: dir },
    timeoutMs: 15_000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /cannot start redis-server: spawn redis-server ENOENT \(install redis-server, or set redis\.url \/ MAILBUS_REDIS_URL\)/,
  );
  assert.ok(r.ms < 10_000, `failed within seconds (${r.ms} ms)`);
});
