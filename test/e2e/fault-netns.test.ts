import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { makeMessage, sendMail, waitFor } from '@mailbus/testing';
import { queuedId } from './delivery-helpers.js';
import { GatewayFixture } from './support/gateway-fixture.js';

const ROOT = process.env.MAILBUS_REPO_ROOT ?? resolve(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/cli/dist/src/main.js');
const NS = `mbcut${process.pid}`;
const HOST_IF = `mbh${process.pid % 100000}`;
const NS_IF = `mbn${process.pid % 100000}`;
// Addresses of this test's own host inside a network namespace it creates (never a real network).
const HOST_IP = '10.250.7.1';
const SINK_IP = '10.250.7.2';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

/** The kernel's view (`ss -tni`) of this process's TCP sockets towards the smart host. */
function ssTo(): string {
  return execFileSync('ss', ['-tni', 'dst', SINK_IP]).toString();
}

/**
 * Something sent towards the smart host went unacknowledged and the kernel
 * backs off retransmitting it (RTO backoff, or a lost SYN): it was tried.
 */
function unacknowledged(): boolean {
  return /\b(?:backoff|lost):[1-9]|\bretrans:\d+\/[1-9]/.test(ssTo());
}

const netnsUsable = (() => {
  if (process.platform !== 'linux') return false;
  const probe = `mbprobe${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe]);
  if (add.status !== 0) return false;
  spawnSync('ip', ['netns', 'del', probe]);
  return true;
})();

let f: GatewayFixture<never, 'port'> | undefined;
let sink: ChildProcess | undefined;
let sinkOutput = '';

before(async () => {
  if (!netnsUsable) return;
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
  ip('link', 'set', NS_IF, 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${SINK_IP}/30`, 'dev', NS_IF);
  ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  // The smart host runs inside the namespace: the only path to it is the veth link.
  sink = spawn(
    'ip',
    ['netns', 'exec', NS, process.execPath, MAIN, 'sink', '--listen', `${SINK_IP}:2525`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  sink.stdout?.on('data', (d: Buffer) => (sinkOutput += d.toString()));
  sink.stderr?.on('data', (d: Buffer) => (sinkOutput += d.toString()));
  await waitFor(() => sinkOutput.includes('sink listening'), {
    timeoutMs: 15_000,
    what: `sink in namespace: ${sinkOutput}`,
  });
});

after(async () => {
  await f?.close();
  sink?.kill('SIGTERM');
  spawnSync('ip', ['link', 'del', HOST_IF]);
  spawnSync('ip', ['netns', 'del', NS]);
});

test(
  'a network cut between the bridgehead and its smart host defers the mail, which is delivered once the link is back',
  { skip: !netnsUsable && 'network namespaces are not available here (needs CAP_NET_ADMIN)' },
  async () => {
    f = await GatewayFixture.start({
      ports: ['port'],
      config: ({ redis, ports }) => `
redis: { url: "${redis.url}" }
admin: { listen: "127.0.0.1:0" }
virtualServers:
  - { name: default, listen: "127.0.0.1:${ports.port}", fqdn: mx.netns.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - name: Internet
    smartHosts: ["[${SINK_IP}]:2525"]
    bridgeheads: [default]
    addressSpaces: [{ domain: "*" }]
    retry: { intervals: [1s] }
    linkState: { failuresToMarkDown: 100 }
`,
    });
    const { port } = f.ports;
    const queue = f.queue;
    const count = () => (sinkOutput.match(/^#\d+ from/gm) ?? []).length;
    await sendMail({
      port,
      from: 'a@sender.test',
      to: ['b@far.test'],
      raw: makeMessage({ from: 'a@sender.test', to: 'b@far.test', subject: 'before cut' }),
    });
    await waitFor(() => count() >= 1, { timeoutMs: 15_000, what: 'delivery across the link' });

    ip('link', 'set', HOST_IF, 'down');
    const id = queuedId(
      (
        await sendMail({
          port,
          from: 'a@sender.test',
          to: ['b@far.test'],
          raw: makeMessage({ from: 'a@sender.test', to: 'b@far.test', subject: 'during cut' }),
        })
      ).response,
    );
    // The bridgehead tried: what it sent towards the smart host (a SYN, or commands on the
    // connection it keeps open) went out and is being retransmitted, unacknowledged.
    await waitFor(unacknowledged, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: () => `a retransmission towards the smart host: ${ssTo()}`,
    });
    assert.equal(count(), 1, 'nothing crosses a cut link');
    assert.ok(
      (await queue.tracking.history(id)).every((e) => e.type !== 'delivered'),
      'not recorded as delivered',
    );
    const counts = await queue.queues.queue('Internet').getJobCounts('active', 'delayed', 'wait');
    assert.ok(
      (counts.active ?? 0) + (counts.delayed ?? 0) + (counts.wait ?? 0) >= 1,
      `the message is still queued: ${JSON.stringify(counts)}`,
    );

    ip('link', 'set', HOST_IF, 'up');
    await waitFor(() => count() >= 2, {
      timeoutMs: 30_000,
      what: 'delivery after the link is back',
    });
    assert.match(sinkOutput, /"during cut"/);
  },
);
