import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { Socket } from 'node:net';
import pino from 'pino';
import { parseConfig } from '@mailbus/config';
import { createDsnSender, Gateway } from '@mailbus/cli';
import { hashPassword } from '@mailbus/ingress';
import { freePort, makeTestCertificate, RedisServer, SmtpDialog } from '@mailbus/testing';

const DialogOver = SmtpDialog as unknown as new (socket: Socket) => SmtpDialog;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('AUTH secrets never reach the logs', () => {
  const PASSWORD = 'S3cr3t-Pa55phrase!';
  const WRONG = 'Wr0ng-Guess-Pa55!';
  let redis: RedisServer;
  let gateway: Gateway;
  let dir: string;
  let port: number;
  let cert: ReturnType<typeof makeTestCertificate>;
  const logged: string[] = [];

  before(async () => {
    redis = await RedisServer.start();
    cert = makeTestCertificate('mx.test');
    dir = mkdtempSync(join(tmpdir(), 'mailbus-secrets-'));
    writeFileSync(join(dir, 'users'), `alice:${await hashPassword(PASSWORD)}\n`);
    port = await freePort();
    const r = parseConfig(`
organization: Test
redis: { url: "${redis.url}" }
virtualServers:
  - name: sub
    listen: 127.0.0.1:${port}
    fqdn: mx.test
    tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }
    auth: { usersFile: "${join(dir, 'users')}" }
    protocolLog: { enabled: true, directory: "${join(dir, 'logs')}" }
connectors:
  - name: Out
    smartHosts: ["[127.0.0.1]:9"]
    bridgeheads: [sub]
    addressSpaces: [{ domain: "*" }]
`);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logged.push(chunk.toString('utf8'));
        cb();
      },
    });
    gateway = new Gateway({
      config: r.config,
      roles: ['ingress'],
      env: {},
      logger: pino({ level: 'trace' }, stream),
      sendDsn: createDsnSender(r.config),
    });
    await gateway.start();
  });

  after(async () => {
    await gateway?.close();
    await redis?.close();
    cert?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('AUTH PLAIN and AUTH LOGIN payloads, right or wrong, appear in neither the pino log nor the protocol log', async () => {
    const secrets = [
      PASSWORD,
      WRONG,
      Buffer.from(`\0alice\0${PASSWORD}`).toString('base64'),
      Buffer.from(`\0alice\0${WRONG}`).toString('base64'),
      Buffer.from(PASSWORD).toString('base64'),
      Buffer.from(WRONG).toString('base64'),
    ];
    const open = async (): Promise<SmtpDialog> => {
      const { dialog } = await SmtpDialog.open(port);
      await dialog.send('EHLO client.test');
      dialog.write('STARTTLS\r\n');
      await dialog.read();
      const s = tlsConnect({ socket: dialog.socket, rejectUnauthorized: false });
      await new Promise<void>((res, rej) => {
        s.once('secureConnect', () => res());
        s.once('error', rej);
      });
      const d = new DialogOver(s);
      await d.send('EHLO client.test');
      return d;
    };
    let d = await open();
    assert.equal((await d.send(`AUTH PLAIN ${secrets[3]}`)).code, 535);
    assert.equal((await d.send(`AUTH PLAIN ${secrets[2]}`)).code, 235);
    await d.quit();
    d = await open();
    assert.equal((await d.send('AUTH LOGIN')).code, 334);
    assert.equal((await d.send(Buffer.from('alice').toString('base64'))).code, 334);
    assert.equal((await d.send(secrets[5] as string)).code, 535);
    assert.equal((await d.send('AUTH LOGIN')).code, 334);
    assert.equal((await d.send(Buffer.from('alice').toString('base64'))).code, 334);
    assert.equal((await d.send(secrets[4] as string)).code, 235);
    await d.quit();
    await gateway.close();
    const pinoText = logged.join('');
    assert.ok(pinoText.length > 0, 'the pino log captured something');
    const protocolText = files(join(dir, 'logs'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('');
    assert.match(protocolText, /AUTH/, 'the protocol log recorded the AUTH commands');
    for (const s of secrets) {
      assert.ok(!pinoText.includes(s), `pino log must not contain ${s.slice(0, 4)}…`);
      assert.ok(!protocolText.includes(s), `protocol log must not contain ${s.slice(0, 4)}…`);
    }
  });
});
