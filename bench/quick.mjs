#!/usr/bin/env node
// A fast inner loop for performance work: mailbus only (no Postfix), one
// 5 KB smtp-source load, and what each message cost: CPU ms per process and
// Redis commands per message (INFO commandstats).
//   node bench/quick.mjs [--count 10000] [--sessions 20] [--import bench/experiments/x.mjs]
import { mkdtempSync, rmSync } from 'node:fs';
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
    const shas = new Map();
    for (const line of (await redis.client.info('all')).split('\n')) void line;
    const entries = await redis.client.slowlog('GET', '-1');
    const by = new Map();
    for (const [, , us, args] of entries) {
      const name = String(args[0]).toLowerCase();
      const key =
        name === 'evalsha'
          ? `evalsha ${String(args[1]).slice(0, 8)} ${String(args[3] ?? '').slice(0, 40)}`
          : name;
      const e = by.get(key) ?? { n: 0, us: 0 };
      e.n++;
      e.us += Number(us);
      by.set(key, e);
    }
    void shas;
    console.log('  redis time by command (SLOWLOG):');
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
