#!/usr/bin/env node
// Failover soak: one `mailbus start` process (ingress and bridgehead) under
// steady SMTP traffic while the Redis primary is SIGKILLed N times in a row
// (Sentinel: the primary; Cluster: the master of the queue's slot). Each round:
// kill, wait for the promotion, measure the seconds until the ingress answers
// 250 again, restart the killed server (it rejoins as a replica), next round.
// At the end every message answered 250 must have reached the sink.
//   node bench/failover-soak.mjs [--rounds 20] [--kind sentinel|cluster|both]
//                                [--sentinel-delay-ms 150] [--keep]
// Needs a build (npm run build). Exit code 1 unless every round recovered and
// nothing was lost.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ClusterTopology,
  deliveredMessageIds,
  relayToSinkConfig,
  SentinelTopology,
  SinkServer,
  SmtpTraffic,
  sleep,
} from '../libs/testing/dist/src/index.js';
import { CLI } from './lib/mailbus.mjs';
import { freePort, startChild, stopAll, waitForPort, waitForText } from './lib/procs.mjs';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    kind: { type: 'string', default: 'both' },
    'sentinel-delay-ms': { type: 'string', default: '0' },
    // messages accepted between two kills
    between: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(opt.rounds);
const BETWEEN = Number(opt.between);
/** The issue's promise: 250 again within this long after the promotion. */
const RECOVERY_MS = 10_000;
const kinds = opt.kind === 'both' ? ['sentinel', 'cluster'] : [opt.kind];

const s1 = (ms) => (ms / 1000).toFixed(1);

async function soak(kind) {
  const dir = mkdtempSync(join(tmpdir(), `mailbus-soak-${kind}-`));
  const topology =
    kind === 'sentinel'
      ? await SentinelTopology.start({ sentinelDelayMs: Number(opt['sentinel-delay-ms']) })
      : await ClusterTopology.start('mailbus:{Sink}:wait');
  const sink = await SinkServer.start();
  const port = await freePort();
  const config = join(dir, 'mailbus.yaml');
  writeFileSync(
    config,
    relayToSinkConfig({
      redis: `${topology.redisYaml}, durability: replicated, commandTimeout: 2s`,
      port,
      sinkPort: sink.port,
      concurrency: 10,
    }) + 'logging: { level: info }\n',
  );
  const log = join(dir, 'mailbus.log');
  const child = startChild(
    process.execPath,
    [CLI, 'start', '--config', config, '--role', 'ingress,bridgehead'],
    { log, graceMs: 20_000, cwd: dir },
  );
  const rows = [];
  let traffic;
  try {
    await waitForText(log, 'mailbus running', 60_000, child);
    await waitForPort(port);
    traffic = new SmtpTraffic({ port, sessions: 4, deadlineMs: ROUNDS * 120_000, tag: kind });
    for (let round = 1; round <= ROUNDS; round++) {
      const startedAt = traffic.now();
      const refusedBefore = traffic.refusals.length;
      if (!(await traffic.waitForAccepted(traffic.accepted.size + BETWEEN)))
        throw new Error(`round ${round}: traffic stopped before the kill`);
      const killed = await topology.killPrimary();
      const killedAt = traffic.now();
      const promoted = await topology.waitForPromotion(killed, 60_000);
      const promotedAt = traffic.now();
      let first;
      while ((first = traffic.firstAcceptedSince(promotedAt)) === undefined) {
        if (traffic.now() - promotedAt > 60_000) break;
        await sleep(50);
      }
      const recoveryMs = first === undefined ? undefined : first - promotedAt;
      await topology.heal(killed, 60_000);
      rows.push({
        round,
        startedAt,
        killed,
        promoted,
        promotionMs: promotedAt - killedAt,
        recoveryMs,
        refused: traffic.refusals.length - refusedBefore,
      });
      const r = rows.at(-1);
      console.log(
        `${kind} round ${round}: killed :${killed}, promoted :${promoted} after ${s1(r.promotionMs)} s, ` +
          `first 250 ${recoveryMs === undefined ? 'never' : `${s1(recoveryMs)} s`} after the promotion`,
      );
    }
  } finally {
    await traffic?.stop();
  }
  // Every accepted message must arrive: wait (bounded) for the drain.
  const accepted = [...traffic.accepted];
  const drainUntil = Date.now() + 60_000;
  let d = deliveredMessageIds(sink.messages.map((m) => m.raw));
  while (accepted.some(([id]) => !d.has(id)) && Date.now() < drainUntil) {
    await sleep(250);
    d = deliveredMessageIds(sink.messages.map((m) => m.raw));
  }
  await child.stopNow();
  const text = readFileSync(log, 'utf8');
  const revived = text.split('redis connection ended; connecting it again').length - 1;
  const restarted = text.split('worker stopped fetching jobs; restarting it').length - 1;
  const roundOf = (at) => rows.findLastIndex((r) => r.startedAt <= at);
  console.log(
    `\n${kind}: round accepted refused delivered lost first-250-after-promotion(s) promotion(s)`,
  );
  let lostTotal = 0;
  let recovered = 0;
  for (const [i, r] of rows.entries()) {
    const mine = accepted.filter(([, at]) => roundOf(at) === i);
    const delivered = mine.filter(([id]) => d.has(id)).length;
    const lost = mine.length - delivered;
    lostTotal += lost;
    const ok = r.recoveryMs !== undefined && r.recoveryMs < RECOVERY_MS;
    if (ok) recovered++;
    console.log(
      `${kind} ${String(r.round).padStart(5)} ${String(mine.length).padStart(8)} ${String(r.refused).padStart(7)} ` +
        `${String(delivered).padStart(9)} ${String(lost).padStart(4)} ` +
        `${(r.recoveryMs === undefined ? 'never' : s1(r.recoveryMs)).padStart(28)} ${s1(r.promotionMs).padStart(12)}`,
    );
  }
  const times = rows.map((r) => r.recoveryMs).filter((x) => x !== undefined);
  const summary =
    `${kind}: ${recovered}/${rows.length} rounds recovered (250 within ${RECOVERY_MS / 1000} s of the promotion), ` +
    `accepted=${accepted.length} delivered=${accepted.filter(([id]) => d.has(id)).length} lost=${lostTotal} ` +
    `first 250 after promotion: max ${s1(Math.max(...times))} s, median ${s1(times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? NaN)} s; ` +
    `connections revived=${revived} worker restarts=${restarted}`;
  console.log(summary);
  const lostIds = accepted.filter(([id]) => !d.has(id));
  if (lostIds.length)
    console.log(
      `lost (first 10, ms after start): ${lostIds
        .slice(0, 10)
        .map(([id, at]) => `${id} ${at}`)
        .join(', ')}`,
    );
  console.log('');
  await sink.close();
  await topology.close();
  if (!opt.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
  return recovered === rows.length && rows.length === ROUNDS && lostTotal === 0;
}

let ok = true;
try {
  for (const kind of kinds) ok = (await soak(kind)) && ok;
} finally {
  await stopAll();
}
process.exit(ok ? 0 : 1);
