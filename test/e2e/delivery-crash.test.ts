import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DnsServer,
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  sleep,
  waitFor,
} from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { startGatewayWithEnv } from './delivery-helpers.js';

const ROOT = process.env.MAILBUS_REPO_ROOT ?? resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/cli/dist/src/main.js');

/** `mailbus start --role bridgehead` as a real process; resolves once it says it runs. */
async function startBridgehead(configFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [MAIN, 'start', '--config', configFile, '--role', 'bridgehead'],
    {
      env: {
        ...process.env,
        MAILBUS_LOCK_DURATION_MS: '2000',
        MAILBUS_STALLED_INTERVAL_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => output.includes('mailbus running') || child.exitCode !== null, {
    timeoutMs: 20_000,
    what: 'the bridgehead process to start',
  });
  if (child.exitCode !== null) throw new Error(`bridgehead exited ${child.exitCode}: ${output}`);
  return child;
}

describe('a bridgehead process killed mid-delivery loses no message', () => {
  let redis: RedisServer;
  let dns: DnsServer;
  let fast: SinkServer;
  let slow: SinkServer;
  let ingress: Gateway;
  let port: number;
  let dir: string;
  let configFile: string;
  const children: ChildProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
    const smtpPort = await freePort('127.0.0.2');
    fast = await SinkServer.start({ host: '127.0.0.2', port: smtpPort });
    // Takes the message, then waits before its 250: the window a crash falls into.
    slow = await SinkServer.start({ host: '127.0.0.3', port: smtpPort, dataDelayMs: 2500 });
    dns = await DnsServer.start({
      'fast.test': { a: ['127.0.0.2'] },
      'slow.test': { a: ['127.0.0.3'] },
    });
    port = await freePort();
    const yaml = `
organization: Test
redis: { url: "${redis.url}", commandTimeout: 1s }
logging: { level: warn }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${port}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
    outbound: { port: ${smtpPort}, dnsServers: ["${dns.address}"] }
connectors:
  - name: Internet
    dns: true
    bridgeheads: [hub]
    addressSpaces: [{ domain: "*" }]
`;
    dir = mkdtempSync(join(tmpdir(), 'mailbus-crash-'));
    configFile = join(dir, 'mailbus.yaml');
    writeFileSync(configFile, yaml);
    ingress = await startGatewayWithEnv(yaml, {}, ['ingress']);
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await ingress?.close();
    await Promise.all([fast, slow].map((s) => s?.close()));
    await dns?.close();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('after SIGKILL mid-delivery and a new bridgehead, every message is delivered (duplicates allowed), and recipients already delivered are not sent again', async (t) => {
    const subjects = ['split', 'only-slow-1', 'only-slow-2', 'only-slow-3', 'only-slow-4'];
    await sendMail({
      port,
      from: 'alice@sender.test',
      to: ['x@fast.test', 'y@slow.test'],
      raw: makeMessage({
        from: 'alice@sender.test',
        to: 'x@fast.test, y@slow.test',
        subject: 'split',
      }),
    });
    for (const s of subjects.slice(1))
      await sendMail({
        port,
        from: 'alice@sender.test',
        to: [`${s}@slow.test`],
        raw: makeMessage({ from: 'alice@sender.test', to: `${s}@slow.test`, subject: s }),
      });

    const first = await startBridgehead(configFile);
    children.push(first);
    // The fast recipient of "split" got its 250; the slow ones are waiting for theirs.
    await waitFor(() => fast.messages.length === 1, {
      timeoutMs: 15_000,
      what: 'the fast recipient',
    });
    await sleep(700);
    assert.equal(slow.messages.length, 0, 'killed before any slow 250');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const second = await startBridgehead(configFile);
    children.push(second);
    const count = (s: string) =>
      slow.messages.filter((m) => m.raw.includes(`Subject: ${s}\r\n`)).length;
    await waitFor(() => subjects.every((s) => count(s) >= 1), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'every message at the slow sink',
    });
    await sleep(3000);
    const duplicates = subjects.reduce((n, s) => n + count(s) - 1, 0);
    t.diagnostic(
      `duplicates at the slow sink (taken by the sink while the bridgehead died): ${duplicates}`,
    );
    assert.ok(
      subjects.every((s) => count(s) <= 2),
      'at most one extra copy per message',
    );
    assert.equal(
      fast.messages.length,
      1,
      'the recipient delivered before the crash is not sent again',
    );
    assert.deepEqual(fast.messages[0]?.to, ['x@fast.test']);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  });
});
