import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  sleep,
  SinkServer,
  waitFor,
} from '@mailbus/testing';

const ROOT = process.env.MAILBUS_REPO_ROOT ?? resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/cli/dist/src/main.js');

interface Node {
  name: string;
  args: string[];
  child?: ChildProcess;
  output: string;
}

function launch(node: Node, ready: RegExp): Promise<void> {
  node.output = '';
  const child = spawn(process.execPath, [MAIN, 'start', ...node.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAILBUS_LOCK_DURATION_MS: '3000', MAILBUS_STALLED_INTERVAL_MS: '1000' },
  });
  node.child = child;
  child.stdout?.on('data', (d: Buffer) => (node.output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (node.output += d.toString()));
  return waitFor(() => ready.test(node.output), {
    timeoutMs: 20_000,
    what: `${node.name} to start: ${node.output}`,
  }).then(() => undefined);
}

async function stop(node: Node): Promise<number | null> {
  const child = node.child;
  if (!child || child.exitCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  child.kill('SIGTERM');
  return exited;
}

let redis: RedisServer;
let sink: SinkServer;
const nodes: Node[] = [];

before(async () => {
  redis = await RedisServer.start();
  sink = await SinkServer.start();
});

after(async () => {
  for (const n of nodes) if (n.child && n.child.exitCode === null) n.child.kill('SIGKILL');
  await sink?.close();
  await redis?.close();
});

test('a rolling restart of two ingress and two bridgehead processes under load loses no message', async () => {
  const p1 = await freePort();
  const p2 = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'mailbus-rolling-')), 'mailbus.yaml');
  writeFileSync(
    file,
    `
redis: { url: "${redis.url}" }
admin: { listen: "127.0.0.1:0" }
virtualServers:
  - { name: in1, listen: "127.0.0.1:${p1}", fqdn: in1.rolling.test, relay: { allow: [127.0.0.0/8] } }
  - { name: in2, listen: "127.0.0.1:${p2}", fqdn: in2.rolling.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${sink.port}"], bridgeheads: [in1, in2], addressSpaces: [{ domain: "*" }], retry: { intervals: [1s] } }
`,
  );
  const ingress1: Node = {
    name: 'ingress-1',
    args: ['--config', file, '--role', 'ingress', '--virtual-server', 'in1'],
    output: '',
  };
  const ingress2: Node = {
    name: 'ingress-2',
    args: ['--config', file, '--role', 'ingress', '--virtual-server', 'in2'],
    output: '',
  };
  const bh1: Node = {
    name: 'bridgehead-1',
    args: ['--config', file, '--role', 'bridgehead'],
    output: '',
  };
  const bh2: Node = {
    name: 'bridgehead-2',
    args: ['--config', file, '--role', 'bridgehead'],
    output: '',
  };
  nodes.push(ingress1, ingress2, bh1, bh2);
  const up = /mailbus running/;
  await Promise.all([launch(ingress1, up), launch(ingress2, up), launch(bh1, up), launch(bh2, up)]);

  // Load: two senders, one per ingress, each falling back to the other ingress while its own restarts.
  const accepted = new Set<string>();
  let running = true;
  let sent = 0;
  const sender = async (ports: [number, number]) => {
    while (running && sent < 1000) {
      const id = `<rolling-${sent++}-${Date.now()}@test>`;
      const raw = makeMessage({ from: 'a@sender.test', to: 'b@far.test', messageId: id });
      for (const port of ports) {
        try {
          await sendMail({ port, from: 'a@sender.test', to: ['b@far.test'], raw });
          accepted.add(id);
          break;
        } catch {
          // refused or 421 during the restart: the other ingress takes it
        }
      }
      // The senders' pace (about 100 messages a second together): part of the load, not a wait.
      await sleep(10);
    }
  };
  const load = Promise.all([sender([p1, p2]), sender([p2, p1])]);
  /** Mail is flowing through the current set of nodes: 20 more messages accepted. */
  const flowing = async () => {
    const mark = accepted.size;
    await waitFor(() => accepted.size >= mark + 20 || sent >= 1000, {
      timeoutMs: 30_000,
      what: () => `20 more messages accepted (${accepted.size} so far)`,
    });
  };

  for (const [node, pattern] of [
    [ingress1, up],
    [ingress2, up],
    [bh1, up],
    [bh2, up],
  ] as const) {
    await flowing();
    assert.equal(await stop(node), 0, `${node.name} exits 0 on SIGTERM: ${node.output}`);
    await launch(node, pattern);
  }
  await flowing();
  running = false;
  await load;

  assert.ok(accepted.size >= 50, `enough load was accepted (${accepted.size})`);
  const idOf = (raw: Buffer) => /^Message-ID: (<[^>]+>)/im.exec(raw.toString('latin1'))?.[1] ?? '';
  await waitFor(
    () => {
      const got = new Set(sink.messages.map((m) => idOf(m.raw)));
      return [...accepted].every((id) => got.has(id));
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'every accepted message at the sink' },
  );
  const counts = new Map<string, number>();
  for (const m of sink.messages) counts.set(idOf(m.raw), (counts.get(idOf(m.raw)) ?? 0) + 1);
  const lost = [...accepted].filter((id) => !counts.has(id)).length;
  const duplicated = [...counts.values()].filter((n) => n > 1).length;
  console.log(
    `rolling restart: accepted=${accepted.size} delivered=${counts.size} duplicated=${duplicated} lost=${lost}`,
  );
  assert.equal(lost, 0);
  for (const n of nodes) await stop(n);
});
