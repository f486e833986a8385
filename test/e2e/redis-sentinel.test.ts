import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, RedisSentinelGroup, SinkServer, SmtpDialog, sleep } from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { startGateway } from './support/start-gateway.js';

const SESSIONS = 4;
/** Messages accepted before the kill, and again after the cluster recovered. */
const BEFORE_KILL = 40;
const AFTER_RECOVERY = 40;
const DEADLINE_MS = 60_000;

describe('Redis Sentinel failover of the primary mid-traffic', { timeout: 90_000 }, () => {
  let group: RedisSentinelGroup;
  let sink: SinkServer;
  let gateway: Gateway;
  let port: number;
  /** Why the ingress answered 451 (its error log lines), for the summary. */
  const reasons = new Map<string, number>();

  before(async () => {
    // Two replicas: with `replicated` (WAIT 1) the new primary needs a replica
    // of its own; with one replica it would refuse (451) until the dead
    // primary came back and the sentinels made it a replica (8 s or more).
    group = await RedisSentinelGroup.start({ name: 'mailbus', replicas: 2, sentinels: 3 });
    sink = await SinkServer.start();
    port = await freePort();
    gateway = await startGateway(
      `
organization: Test
redis:
  sentinel: { name: mailbus, sentinels: ${JSON.stringify(group.addresses)} }
  durability: replicated
  commandTimeout: 2s
virtualServers:
  - name: mx
    listen: 127.0.0.1:${port}
    fqdn: mx.test
    relay: { allow: [127.0.0.0/8] }
    limits: { maxConnectionsPerIp: 100 }
connectors:
  - name: Sink
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: "*" }]
    retry: { intervals: [1s] }
    linkState: { failuresToMarkDown: 1000000 }
    concurrency: 10
`,
      ['ingress', 'bridgehead'],
      (line) => {
        const l = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        const why = `${l.msg ?? ''}: ${l.err?.message ?? ''}`.slice(0, 160);
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      },
    );
  });

  after(async () => {
    await gateway?.close();
    await sink?.close();
    await group?.close();
  });

  test('with durability replicated, every message answered 250 is delivered after SIGKILL of the primary; the outage answers 451 quickly', async () => {
    const started = Date.now();
    const accepted = new Set<string>();
    const refusals: Array<{ code: number; ms: number; at: number; text?: string }> = [];
    let next = 0;
    let stop = false;
    let acceptedAtRecovery = Number.POSITIVE_INFINITY;
    const timeline: string[] = [];
    const mark = (what: string) =>
      timeline.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);

    const client = async (n: number): Promise<void> => {
      let dialog: SmtpDialog | undefined;
      while (!stop && Date.now() - started < DEADLINE_MS) {
        const i = next++;
        const id = `<sf-${i}-${n}@failover.test>`;
        const raw = `From: a@failover.test\r\nTo: b@dest.example\r\nSubject: failover ${i}\r\nMessage-ID: ${id}\r\n\r\nmessage ${i}\r\n`;
        for (let attempt = 0; !stop && Date.now() - started < DEADLINE_MS; attempt++) {
          const t0 = Date.now();
          try {
            if (!dialog) {
              const { dialog: d } = await SmtpDialog.open(port);
              await d.send('EHLO failover.test', 5000);
              dialog = d;
            }
            const m = await dialog.send('MAIL FROM:<a@failover.test>', 5000);
            const r = m.code === 250 ? await dialog.send('RCPT TO:<b@dest.example>', 5000) : m;
            const d = r.code === 250 ? await dialog.data(raw) : r;
            if (d.code === 250) {
              accepted.add(id);
              break;
            }
            refusals.push({
              code: d.code,
              ms: Date.now() - t0,
              at: t0 - started,
              text: d.lines.join(' '),
            });
            if (d.code !== 451 && d.code !== 452 && d.code !== 421)
              throw new Error(`unexpected reply ${d.lines.join(' ')}`);
            if (r.code !== 250 || m.code !== 250 || d.code === 421) {
              dialog.close();
              dialog = undefined;
            } else await dialog.send('RSET', 5000);
          } catch (e) {
            if (e instanceof Error && e.message.startsWith('unexpected reply')) throw e;
            refusals.push({ code: 0, ms: Date.now() - t0, at: t0 - started });
            dialog?.close();
            dialog = undefined;
          }
          await sleep(100 + Math.min(attempt, 10) * 50);
        }
      }
      await dialog?.quit().catch(() => undefined);
    };

    let oldPrimary = 0;
    let newPrimary = 0;
    const chaos = (async () => {
      while (accepted.size < BEFORE_KILL) {
        if (Date.now() - started > DEADLINE_MS)
          throw new Error('traffic never reached the kill point');
        await sleep(20);
      }
      oldPrimary = await group.primaryPort();
      await group.server(oldPrimary).kill();
      mark(`SIGKILL primary :${oldPrimary} after ${accepted.size} accepted`);
      newPrimary = await group.waitForFailover(oldPrimary, 20_000);
      mark(`sentinels promoted :${newPrimary}`);
      // The failover repoints the other replica at the new primary: once it
      // is in sync, WAIT 1 succeeds again and ingress answers 250.
      await group.waitForReplication(newPrimary, 1, Date.now() + 20_000);
      mark(`a replica of :${newPrimary} is in sync`);
      acceptedAtRecovery = accepted.size;
    })();

    const traffic = Promise.all(Array.from({ length: SESSIONS }, (_, n) => client(n)));
    await chaos;
    while (
      accepted.size < acceptedAtRecovery + AFTER_RECOVERY &&
      Date.now() - started < DEADLINE_MS
    )
      await sleep(50);
    stop = true;
    await traffic;
    mark(`traffic stopped: ${accepted.size} accepted`);

    const delivered = () => {
      const ids = new Map<string, number>();
      for (const msg of sink.messages) {
        const id = /^Message-ID: (<[^>]+>)/im.exec(msg.raw.toString('latin1'))?.[1];
        if (id) ids.set(id, (ids.get(id) ?? 0) + 1);
      }
      return ids;
    };
    const drainUntil = Date.now() + 20_000;
    while (![...accepted].every((id) => delivered().has(id)) && Date.now() < drainUntil)
      await sleep(250);
    const d = delivered();
    const lost = [...accepted].filter((id) => !d.has(id));
    const duplicated = [...d.values()].reduce((sum, c) => sum + (c - 1), 0);
    const unacknowledged = [...d.keys()].filter((id) => !accepted.has(id)).length;
    const slowest = refusals.reduce((m, r) => Math.max(m, r.ms), 0);
    mark(`drained: delivered=${d.size}`);
    console.log(
      `accepted=${accepted.size} delivered=${d.size} duplicated=${duplicated} lost=${lost.length} ` +
        `refused=${refusals.length} (codes ${[...new Set(refusals.map((r) => r.code))].join(',')}; slowest ${slowest} ms) ` +
        `delivered-but-not-acknowledged=${unacknowledged}\n  ${timeline.join('\n  ')}\n  slowest refusals: ` +
        [...refusals]
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 3)
          .map((r) => `${r.code} ${r.ms} ms at ${(r.at / 1000).toFixed(1)}s`)
          .join('; ') +
        `\n  last refusal at ${((refusals.at(-1)?.at ?? 0) / 1000).toFixed(1)}s; error log: ` +
        ([...reasons].map(([why, n]) => `${n}× ${why}`).join('; ') || 'none'),
    );

    assert.notEqual(newPrimary, oldPrimary);
    assert.ok(newPrimary > 0, 'a replica was promoted');
    assert.ok(
      accepted.size >= acceptedAtRecovery + AFTER_RECOVERY,
      'mail was accepted again after the failover',
    );
    assert.ok(refusals.length > 0, 'the outage was seen as temporary refusals');
    assert.ok(
      refusals.every((r) => r.code === 0 || r.code === 451 || r.code === 421),
      'refused only with 451/421 (or a dropped session): never a permanent reply',
    );
    assert.ok(
      slowest < 8000,
      `a refusal during the failover came within seconds (slowest ${slowest} ms)`,
    );
    assert.deepEqual(lost.slice(0, 10), [], 'no message answered 250 is lost');
    assert.equal(lost.length, 0);
  });
});
