#!/usr/bin/env node
// A fast inner loop for performance work: mailbus only (no Postfix), one
// 5 KB smtp-source load, and what each message cost: CPU ms per process and
// Redis commands per message (INFO commandstats).
//   node bench/quick.mjs [--count 10000] [--sessions 20] [--import bench/experiments/x.mjs]
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchRedis, MailbusDeployment } from './lib/mailbus.mjs';
import { CpuMeter, freePort, run, stopAll } from './lib/procs.mjs';
import { SmtpSink } from './lib/sink.mjs';

const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    sessions: { type: 'string', default: '20' },
    size: { type: 'string', default: '5120' },
    durability: { type: 'string', default: 'fsync' },
    import: { type: 'string', multiple: true, default: [] },
    // node --cpu-prof into this directory
    prof: { type: 'string' },
    // extra node flags for the gateway processes, e.g. --node-arg=--max-semi-space-size=32
    'node-arg': { type: 'string', multiple: true, default: [] },
    // per-script Redis time from SLOWLOG (every command logged; slows Redis a little)
    slowlog: { type: 'boolean', default: false },
  },
});
const count = Number(opt.count);
const require = createRequire(import.meta.url);
const TMP = mkdtempSync(join(tmpdir(), 'mailbus-quick-'));
try {
  const sink = await new SmtpSink(await freePort()).start();
  const redis = await new BenchRedis(join(TMP, 'redis'), opt.durability).start();
  const dep = await new MailbusDeployment({
    dir: join(TMP, 'mb'),
    redis,
    sinkPort: sink.port,
    nodeArgs: [
      ...opt.import.flatMap((m) => ['--import', new URL(m, `file://${process.cwd()}/`).href]),
      ...(opt.prof ? ['--cpu-prof', '--cpu-prof-dir', opt.prof] : []),
      ...opt['node-arg'],
    ],
  }).start();
  await redis.client.config('RESETSTAT');
  if (opt.slowlog) {
    await redis.client.config('SET', 'slowlog-log-slower-than', '0');
    await redis.client.config('SET', 'slowlog-max-len', '1000000');
    await redis.client.slowlog('RESET');
  }
  const roots = dep.children.map((c) => ({ pid: c.pid, name: c.benchName }));
  roots.push({ pid: redis.child.pid, name: 'redis-server' });
  const meter = new CpuMeter(
    roots,
    (st, root) => roots.find((r) => r.pid === root.pid)?.name ?? st.comm,
  );
  const mark = sink.mark();
  const t0 = performance.now();
  await run('smtp-source', [
    '-s',
    opt.sessions,
    '-m',
    String(count),
    '-l',
    opt.size,
    '-f',
    'bench@source.test',
    '-t',
    'rcpt@example.net',
    '-M',
    'source.test',
    `127.0.0.1:${dep.ports[0]}`,
  ]);
  const tIngest = performance.now();
  const got = await sink.waitFor(mark, count, { idleMs: 10_000 });
  const { cpuMs, peakKiB } = meter.finish();
  const stats = await redis.client.info('commandstats');
  const calls = [...stats.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)]
    .map(([, c, n, us]) => ({ c, perMsg: Number(n) / count, usPerMsg: Number(us) / count }))
    .sort((a, b) => b.perMsg - a.perMsg);
  const e2e = (got.received / (got.lastAt - t0)) * 1000;
  console.log(
    `received ${got.received}/${count}; ingest ${((count / (tIngest - t0)) * 1000).toFixed(0)} msg/s; end-to-end ${e2e.toFixed(0)} msg/s`,
  );
  let total = 0;
  for (const [n, ms] of Object.entries(cpuMs)) {
    total += ms;
    console.log(
      `  cpu ${n.padEnd(14)} ${(ms / count).toFixed(3)} ms/msg, peak RSS ${((peakKiB[n] ?? 0) / 1024).toFixed(0)} MiB`,
    );
  }
  console.log(`  cpu ${'total'.padEnd(14)} ${(total / count).toFixed(3)} ms/msg`);
  console.log(
    `  redis commands/msg ${calls.reduce((a, b) => a + b.perMsg, 0).toFixed(1)}, redis usec/msg in commands ${calls.reduce((a, b) => a + b.usPerMsg, 0).toFixed(0)}`,
  );
  for (const c of calls.slice(0, 14))
    console.log(`    ${c.c.padEnd(12)} ${c.perMsg.toFixed(2)}/msg ${c.usPerMsg.toFixed(1)} us/msg`);
  if (opt.slowlog) {
    // BullMQ's scripts by name (SHA1 of their text); mailbus's by SHA and key shape.
    const bullmq = require('bullmq/dist/cjs/scripts/index.js');
    const names = new Map(
      Object.values(bullmq).map((x) => [
        createHash('sha1').update(x.content).digest('hex'),
        x.name,
      ]),
    );
    const shape = (k) => String(k ?? '').replace(/[0-9A-Z]{18}(\.\d+\.\d+)?/g, 'ID');
    const entries = await redis.client.slowlog('GET', '-1');
    const by = new Map();
    for (const [, , us, args] of entries) {
      const name = String(args[0]).toLowerCase();
      const sha = String(args[1] ?? '');
      const key =
        name === 'evalsha'
          ? names.has(sha)
            ? `BullMQ ${names.get(sha)}`
            : `mailbus script ${sha.slice(0, 8)}, ${String(args[2])} keys, on ${shape(args[3])}`
          : name;
      const e = by.get(key) ?? { n: 0, us: 0 };
      e.n++;
      e.us += Number(us);
      by.set(key, e);
    }
    console.log('  redis time by command and script (SLOWLOG; a script includes its commands):');
    for (const [k, e] of [...by].sort((a, b) => b[1].us - a[1].us).slice(0, 15))
      console.log(
        `    ${(e.us / count).toFixed(1).padStart(7)} us/msg  ${(e.n / count).toFixed(2)}/msg  ${(e.us / e.n).toFixed(1)} us each  ${k}`,
      );
  }
} finally {
  await stopAll();
  rmSync(TMP, { recursive: true, force: true });
}
process.exit(0);
