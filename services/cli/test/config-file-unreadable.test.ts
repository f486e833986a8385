import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTestCertificate, RedisServer } from '@mailbus/testing';
import { mailbus, workDir } from './mailbus-process.js';

/**
 * `recipientValidation: list` with a valid recipients file mailbus cannot read: `mailbus start`
 * refuses to start (exit status 1, within seconds) with MAILBUS_ERR_CONFIG_FILE_UNREADABLE naming
 * the config key, the file and why — never a crash trace, never a gateway that accepts or
 * refuses every recipient.
 */
describe('an unreadable validRecipientsFile stops mailbus start', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.close();
  });

  async function startWith(file: (dir: string) => string): Promise<{
    r: ReturnType<typeof mailbus>;
    path: string;
  }> {
    const port = await freePort();
    const { dir, config } = workDir('');
    const path = file(dir);
    writeFileSync(
      config,
      `
redis: { url: "${redis.url}" }
virtualServers:
  - { name: mx, listen: "127.0.0.1:${port}", fqdn: mx.list.test }
recipientPolicies:
  - { domain: list.test, mailboxHosts: ["[127.0.0.1]:2525"], recipientValidation: list, validRecipientsFile: "${path}" }
`,
    );
    const http = await freePort();
    const r = mailbus(
      ['start', '--config', config, '--role', 'ingress', '--http-listen', `127.0.0.1:${http}`],
      { timeoutMs: 20_000 },
    );
    return { r, path };
  }

  const cases: Array<[string, (dir: string) => string, RegExp]> = [
    ['a file that does not exist', (dir) => join(dir, 'missing.txt'), /no such file \(ENOENT\)/],
    [
      'a directory',
      (dir) => {
        mkdirSync(join(dir, 'valid.d'));
        return join(dir, 'valid.d');
      },
      /it is a directory \(EISDIR\)/,
    ],
  ];
  // Root reads any file whatever its mode: the permission case only means something for others.
  if (process.getuid?.() !== 0)
    cases.push([
      'a file without read permission',
      (dir) => {
        const f = join(dir, 'secret.txt');
        writeFileSync(f, 'a@list.test\n');
        chmodSync(f, 0o000);
        return f;
      },
      /permission denied \(EACCES\)/,
    ]);

  for (const [name, file, why] of cases) {
    test(`${name}: exit status 1, the error code, the key, the file and why`, async () => {
      const { r, path } = await startWith(file);
      assert.equal(r.status, 1, r.stderr);
      const line = r.stderr.split('\n').find((l) => l.includes('MAILBUS_ERR_'));
      assert.ok(line, r.stderr);
      assert.ok(
        line.startsWith(
          `MAILBUS_ERR_CONFIG_FILE_UNREADABLE: recipientPolicies[0].validRecipientsFile: cannot read "${path}": `,
        ),
        line,
      );
      assert.match(line, why);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(r.ms < 15_000, `refused within seconds (${r.ms} ms)`);
    });
  }
});

/**
 * The certificate files sites authenticate with (tls.clientCa, outboundSecurity.clientCert and
 * clientKey): one mailbus cannot read stops `mailbus start` the same way, naming its key.
 */
describe('an unreadable client CA or client certificate stops mailbus start', () => {
  let redis: RedisServer;
  const server = makeTestCertificate('mx.sites.test');
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.close();
    server.cleanup();
  });

  const cases: Array<[string, string, (missing: string) => string, string]> = [
    [
      'tls.clientCa',
      'ingress',
      (missing) =>
        `  - { name: mx, listen: "127.0.0.1:PORT", fqdn: mx.sites.test, siteTrust: authenticated, tls: { cert: "${server.certFile}", key: "${server.keyFile}", clientCa: "${missing}" } }\nconnectors: []`,
      'virtualServers[0].tls.clientCa',
    ],
    [
      'outboundSecurity.clientCert',
      'bridgehead',
      (missing) =>
        `  - { name: mx, listen: "127.0.0.1:PORT", fqdn: mx.sites.test }\nconnectors:\n  - { name: Boston, bridgeheads: [mx], smartHosts: ["[127.0.0.1]:2525"], addressSpaces: [{ domain: "*" }], outboundSecurity: { tls: required, clientCert: "${missing}", clientKey: "${server.keyFile}" } }`,
      'connectors[0].outboundSecurity.clientCert',
    ],
  ];
  for (const [name, role, entries, key] of cases) {
    test(`${name} that does not exist: exit status 1, the error code, the key, the file and why`, async () => {
      const [port, http] = await Promise.all([freePort(), freePort()]);
      const { dir, config } = workDir('');
      const missing = join(dir, 'missing.pem');
      writeFileSync(
        config,
        `redis: { url: "${redis.url}" }\nvirtualServers:\n${entries(missing).replace('PORT', String(port))}\n`,
      );
      const r = mailbus(
        ['start', '--config', config, '--role', role, '--http-listen', `127.0.0.1:${http}`],
        { timeoutMs: 20_000 },
      );
      assert.equal(r.status, 1, r.stderr);
      const line = r.stderr.split('\n').find((l) => l.includes('MAILBUS_ERR_'));
      assert.equal(
        line,
        `MAILBUS_ERR_CONFIG_FILE_UNREADABLE: ${key}: cannot read "${missing}": no such file (ENOENT)`,
        r.stderr,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
