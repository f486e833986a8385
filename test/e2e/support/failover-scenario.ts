import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deliveredMessageIds,
  freePort,
  relayToSinkConfig,
  SinkServer,
  SmtpTraffic,
  waitFor,
  type FailoverTopology,
} from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { startGateway } from './start-gateway.js';

/** Messages accepted before the kill, and again after the failover. */
const BEFORE_KILL = 40;
const AFTER_RECOVERY = 40;
const DEADLINE_MS = 60_000;
/** The issue's promise: the ingress answers 250 again this soon after the promotion. */
const RECOVERY_MS = 10_000;

/**
 * A failover of the Redis primary mid-traffic, through the gateway (ingress
 * and bridgehead in this process), with `durability: replicated`: SIGKILL the
 * primary (a Cluster: the master of the queue's slot) after 40 messages were
 * accepted, wait for the promotion, then for 40 more.
 */
export function failoverScenario(title: string, start: () => Promise<FailoverTopology>): void {
  describe(title, { timeout: 120_000 }, () => {
    let topology: FailoverTopology;
    let sink: SinkServer;
    let gateway: Gateway;
    let port: number;
    /** Why the ingress answered 451 (its error log lines), for the summary. */
    const reasons = new Map<string, number>();

    before(async () => {
      topology = await start();
      sink = await SinkServer.start();
      port = await freePort();
      gateway = await startGateway(
        relayToSinkConfig({
          redis: `${topology.redisYaml}, durability: replicated, commandTimeout: 2s`,
          port,
          sinkPort: sink.port,
          concurrency: 10,
        }),
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
      await topology?.close();
    });

    test('with durability replicated, every message answered 250 is delivered after SIGKILL of the primary; the outage answers 451 quickly; 250 again within 10 s of the promotion', async () => {
      const traffic = new SmtpTraffic({ port, sessions: 4, deadlineMs: DEADLINE_MS, tag: 'sf' });
      const timeline: string[] = [];
      const mark = (what: string) => timeline.push(`${(traffic.now() / 1000).toFixed(1)}s ${what}`);
      let oldPrimary = 0;
      let newPrimary = 0;
      let promotedAt = Number.POSITIVE_INFINITY;
      let acceptedAtRecovery = Number.POSITIVE_INFINITY;
      try {
        assert.ok(await traffic.waitForAccepted(BEFORE_KILL), 'traffic reached the kill point');
        oldPrimary = await topology.killPrimary();
        mark(`SIGKILL primary :${oldPrimary} after ${traffic.accepted.size} accepted`);
        newPrimary = await topology.waitForPromotion(oldPrimary);
        promotedAt = traffic.now();
        mark(`${topology.kind} promoted :${newPrimary}`);
        acceptedAtRecovery = traffic.accepted.size;
        await traffic.waitForAccepted(acceptedAtRecovery + AFTER_RECOVERY);
      } finally {
        await traffic.stop();
      }
      const firstAfter = traffic.firstAcceptedSince(promotedAt);
      mark(
        `first 250 after the promotion: ${firstAfter === undefined ? 'none' : `${((firstAfter - promotedAt) / 1000).toFixed(1)} s later`}`,
      );
      mark(`traffic stopped: ${traffic.accepted.size} accepted`);

      const accepted = [...traffic.accepted.keys()];
      const delivered = () => deliveredMessageIds(sink.messages.map((m) => m.raw));
      // Every accepted message at the sink, or 20 s (then the lost ones are counted below).
      await waitFor(
        () => {
          const d = delivered();
          return accepted.every((id) => d.has(id));
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      ).catch(() => undefined);
      const d = delivered();
      const lost = accepted.filter((id) => !d.has(id));
      const duplicated = [...d.values()].reduce((sum, c) => sum + (c - 1), 0);
      const unacknowledged = [...d.keys()].filter((id) => !traffic.accepted.has(id)).length;
      const refusals = traffic.refusals;
      const slowest = refusals.reduce((m, r) => Math.max(m, r.ms), 0);
      mark(`drained: delivered=${d.size}`);
      console.log(
        `accepted=${accepted.length} delivered=${d.size} duplicated=${duplicated} lost=${lost.length} ` +
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
        firstAfter !== undefined && firstAfter - promotedAt < RECOVERY_MS,
        `the ingress answered 250 within ${RECOVERY_MS} ms of the promotion`,
      );
      assert.ok(
        accepted.length >= acceptedAtRecovery + AFTER_RECOVERY,
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
}
