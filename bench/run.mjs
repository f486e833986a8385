#!/usr/bin/env node
// mailbus vs Postfix on this machine: the same smtp-source load relayed to
// the same sink. `npm run bench` (full, < 15 min) or `npm run bench -- --quick`.
// See docs/performance.md for the method.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { cpus, totalmem, tmpdir, release } from 'node:os';
import { join, relative as relativePath, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { fixedRateLoad, percentile } from './lib/loadgen.mjs';
import { BenchRedis, MailbusDeployment, REPO } from './lib/mailbus.mjs';
import { PostfixRelay } from './lib/postfix.mjs';
import { CpuMeter, freePort, loadAverage, run, sleep, stopAll } from './lib/procs.mjs';
import { NodeSink, SmtpSink } from './lib/sink.mjs';
import { formatSummary, summarise } from './profile-summary.mjs';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    // The headline 5 KB load runs this many times per system, alternating
    // Postfix and mailbus; the figures are each system's median run.
    reps: { type: 'string' },
    // Preload a module into every mailbus process (node --import), e.g. one of
    // bench/experiments/*.mjs, to measure a proposed change without editing
    // the product. Recorded in the results.
    import: { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});

const QUICK = opt.quick;
const REPS = Math.max(1, Number(opt.reps ?? (QUICK ? 1 : 3)));
const ONLY = opt.only ? new Set(opt.only.split(',')) : undefined;
const want = (s) => !ONLY || ONLY.has(s);
const N = QUICK
  ? {
      msgs: 2000,
      rcpt: 500,
      mixSmall: 400,
      mixBig: 20,
      latency: 300,
      held: 5000,
      scale: 1500,
      profile: 2000,
      memory: 2000,
    }
  : {
      msgs: 20000,
      rcpt: 5000,
      mixSmall: 4000,
      mixBig: 200,
      latency: 2000,
      held: 100000,
      scale: 5000,
      profile: 5000,
      memory: 10000,
    };
const SIZE = 5120;
const BIG = 1024 * 1024;
const SESSIONS = 20;
const HELD_SESSIONS = 100;
const startedAt = new Date();
const t0 = performance.now();
const TMP = mkdtempSync(join(tmpdir(), 'mailbus-bench-'));
// Postfix daemons (user postfix) must traverse it to their queue directory.
chmodSync(TMP, 0o755);
const RESULTS = join(REPO, 'bench', 'results');
const log = (s) =>
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await stopAll();
  if (!opt['keep-tmp']) rmSync(TMP, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => {
  log('SIGINT: stopping everything');
  void shutdown(130);
});
process.on('SIGTERM', () => void shutdown(143));
// Hard ceiling: a stuck run never outlives its budget.
setTimeout(
  () => {
    log('time budget exceeded: stopping');
    void shutdown(1);
  },
  (QUICK ? 5 : 20) * 60_000,
).unref();

function machine() {
  const cpu = cpus();
  const ver = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpu: `${cpu[0]?.model ?? '?'} × ${cpu.length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    redis: ver('redis-server', ['--version'])
      .replace(/^Redis server /, '')
      .split(' ')[0],
    postfix: PostfixRelay.version(),
    disk: ver('sh', ['-c', `df -hT ${tmpdir()} | tail -1 | awk '{print $1" "$2}'`]),
  };
}

function sourceArgs({ sessions, count, size, port, rcpts = 1, to = 'rcpt@example.net' }) {
  return [
    '-s',
    String(sessions),
    '-m',
    String(count),
    '-l',
    String(size),
    ...(rcpts > 1 ? ['-r', String(rcpts)] : []),
    '-f',
    'bench@source.test',
    '-t',
    to,
    '-M',
    'source.test',
    `127.0.0.1:${port}`,
  ];
}

/**
 * Runs smtp-source jobs in parallel against a system relaying to `sink`;
 * returns ingest and end-to-end rates and CPU/RSS of the system's processes.
 */
async function drive({ name, sink, roots, label, jobs, expected }) {
  const mark = sink.mark();
  const meter = new CpuMeter(roots, label);
  const start = performance.now();
  const results = await Promise.all(
    jobs.map((args) => run('smtp-source', args, { timeoutMs: 600_000 })),
  );
  const ingestEnd = performance.now();
  const w = await sink.waitFor(mark, expected, { timeoutMs: 600_000, idleMs: 30_000 });
  const { cpuMs, peakKiB } = meter.finish();
  const failed = results.filter((r) => r.code !== 0);
  for (const f of failed)
    log(`${name}: smtp-source exit ${f.code}: ${f.err.trim().split('\n').slice(-3).join(' | ')}`);
  const ingestS = (ingestEnd - start) / 1000;
  const e2eS = (w.lastAt - start) / 1000;
  const totalCpu = Object.values(cpuMs).reduce((a, b) => a + b, 0);
  const r = {
    messages: expected,
    received: w.received,
    sourceErrors: failed.length,
    ingestSeconds: round(ingestS, 2),
    e2eSeconds: round(e2eS, 2),
    ingestPerSec: round(expected / ingestS, 0),
    e2ePerSec: w.received >= expected ? round(expected / e2eS, 0) : 0,
    cpuMsPerMsg: Object.fromEntries(
      Object.entries(cpuMs).map(([k, v]) => [k, round(v / expected, 3)]),
    ),
    cpuMsPerMsgTotal: round(totalCpu / expected, 3),
    peakRssMiB: Object.fromEntries(
      Object.entries(peakKiB).map(([k, v]) => [k, round(v / 1024, 1)]),
    ),
    peakRssMiBTotal: round(Object.values(peakKiB).reduce((a, b) => a + b, 0) / 1024, 1),
  };
  log(
    `${name}: ${r.received}/${expected} received, ingest ${r.ingestPerSec} msg/s, end-to-end ${r.e2ePerSec} msg/s, CPU ${r.cpuMsPerMsgTotal} ms/msg`,
  );
  return r;
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** The loads, as smtp-source argument lists, against the given ingress ports. */
function loads(ports) {
  const split = (sessions, count, size, extra = {}) =>
    ports.map((port, i) =>
      sourceArgs({
        sessions: Math.max(1, Math.round(sessions / ports.length)),
        count: Math.round(count / ports.length) + (i === 0 ? count % ports.length : 0),
        size,
        port,
        ...extra,
      }),
    );
  return {
    '5k': {
      jobs: split(SESSIONS, N.msgs, SIZE),
      expected: N.msgs,
      what: `${N.msgs} × 5 KB, ${SESSIONS} sessions`,
    },
    rcpt5: {
      // smtp-source names recipients 1…5 in front of -t, so one domain per
      // process: two processes, one per domain, half of the sessions each.
      jobs: [
        sourceArgs({
          sessions: SESSIONS / 2,
          count: N.rcpt / 2,
          size: SIZE,
          port: ports[0],
          rcpts: 5,
          to: 'user@a.example',
        }),
        sourceArgs({
          sessions: SESSIONS / 2,
          count: N.rcpt / 2,
          size: SIZE,
          port: ports[0],
          rcpts: 5,
          to: 'user@b.example',
        }),
      ],
      expected: N.rcpt,
      what: `${N.rcpt} × 5 KB, 5 recipients each, domains a.example and b.example, ${SESSIONS} sessions`,
    },
    mix: {
      jobs: [
        sourceArgs({ sessions: SESSIONS - 2, count: N.mixSmall, size: SIZE, port: ports[0] }),
        sourceArgs({ sessions: 2, count: N.mixBig, size: BIG, port: ports[0] }),
      ],
      expected: N.mixSmall + N.mixBig,
      what: `${N.mixSmall} × 5 KB on ${SESSIONS - 2} sessions + ${N.mixBig} × 1 MB on 2 sessions`,
    },
  };
}

const postfixLabel = (st) => st.comm;
const mailbusLabel = (redisPid) => (st, root) => (st.pid === redisPid ? 'redis-server' : root.name);

async function withPostfix(sinkPort, fn) {
  const pf = new PostfixRelay({
    dir: mkdtempSync(join(TMP, 'postfix-')),
    port: await freePort(),
    sinkPort,
  });
  await pf.start();
  try {
    return await fn(pf, [{ pid: pf.masterPid }], postfixLabel);
  } finally {
    await pf.stop();
    pf.clean();
  }
}

const IMPORTS = opt.import.map((f) => resolvePath(f));
/** Results file stem: latest.json for the product as is; experiments and quick runs apart. */
const BASE = `latest${QUICK ? '-quick' : ''}${IMPORTS.length > 0 ? '-experiments' : ''}`;
const importArgs = IMPORTS.flatMap((f) => ['--import', f]);

async function withMailbus(
  {
    sinkPort,
    durability = 'fsync',
    ingress = 1,
    bridgeheads = 1,
    combined = false,
    schedule,
    env,
    nodeArgs = [],
  },
  fn,
) {
  const dir = mkdtempSync(join(TMP, 'mailbus-'));
  const redis = await new BenchRedis(join(dir, 'redis'), durability).start();
  const dep = new MailbusDeployment({
    dir,
    redis,
    sinkPort,
    ingress,
    bridgeheads,
    combined,
    schedule,
    env,
    nodeArgs: [...importArgs, ...nodeArgs],
  });
  try {
    await dep.start();
    const roots = [...dep.roots(), { pid: redis.child.pid, name: 'redis-server' }];
    return await fn(dep, roots, mailbusLabel(redis.child.pid), redis);
  } finally {
    await dep.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Latency 250 → arrival at a fixed rate, through the node sink. */
async function latency(port, rate, nodeSink, prefix) {
  const before = nodeSink.count;
  const r = await fixedRateLoad({
    port,
    count: N.latency,
    rate,
    sessions: SESSIONS,
    size: SIZE,
    prefix,
    timeoutMs: 300_000,
  });
  const deadline = performance.now() + 60_000;
  while (nodeSink.count - before < r.accepted.size && performance.now() < deadline) await sleep(20);
  const lat = [];
  for (const [id, t250] of r.accepted) {
    const t = nodeSink.arrivals.get(id);
    if (t !== undefined) lat.push(t - t250);
  }
  lat.sort((a, b) => a - b);
  const out = {
    rate,
    messages: N.latency,
    accepted: r.accepted.size,
    arrived: lat.length,
    errors: r.errors,
    generatorLagMs: round(r.lagMs, 1),
    p50Ms: round(percentile(lat, 50), 1),
    p99Ms: round(percentile(lat, 99), 1),
    maxMs: round(lat[lat.length - 1] ?? NaN, 1),
  };
  return out;
}

/** One load on Postfix and then on mailbus, each on a fresh system. */
async function throughputPair(l, sink, res) {
  res.postfix[l] = await withPostfix(sink.port, (pf, roots, label) => {
    const spec = loads([pf.port])[l];
    return drive({
      name: `postfix ${l}`,
      sink,
      roots,
      label,
      jobs: spec.jobs,
      expected: spec.expected,
    });
  });
  res.mailbus[l] = await withMailbus({ sinkPort: sink.port }, (dep, roots, label) => {
    const spec = loads(dep.ports)[l];
    return drive({
      name: `mailbus ${l}`,
      sink,
      roots,
      label,
      jobs: spec.jobs,
      expected: spec.expected,
    });
  });
  res.mailbus[l].what = loads([0])[l].what;
}

/** The run with the median end-to-end rate. */
function median(runs) {
  const sorted = [...runs].sort((a, b) => a.e2ePerSec - b.e2ePerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The tools the bench runs, found on PATH (sbin included), or a clear error naming what to install. */
function preflight() {
  const path = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
  const missing = ['smtp-source', 'smtp-sink', 'postfix', 'postconf', 'redis-server'].filter(
    (t) => !path.split(':').some((d) => d && existsSync(join(d, t))),
  );
  if (missing.length > 0)
    throw new Error(
      `the bench needs ${missing.join(', ')}: apt-get install -y postfix redis-server (Debian), then run it again`,
    );
  if (process.getuid?.() !== 0)
    throw new Error('the bench starts a private Postfix instance and must run as root');
  process.env.PATH = path;
}

async function main() {
  preflight();
  mkdirSync(RESULTS, { recursive: true });
  const facts = machine();
  const loadBefore = loadAverage();
  log(`mailbus bench ${QUICK ? '(quick)' : '(full)'}; tmp ${TMP}; load ${loadBefore.join(' ')}`);
  const sink = await new SmtpSink(await freePort()).start();
  const nodeSink = await new NodeSink().start();
  const res = {
    ceiling: {},
    postfix: {},
    mailbus: {},
    mailbusMemory: {},
    latency: {},
    held: {},
    scaling: [],
    profile: null,
  };

  // 1. The raw ceiling: smtp-source straight into smtp-sink.
  if (want('ceiling')) {
    const args = sourceArgs({ sessions: SESSIONS, count: N.msgs, size: SIZE, port: sink.port });
    res.ceiling = await drive({
      name: 'ceiling',
      sink,
      roots: [],
      label: postfixLabel,
      jobs: [args],
      expected: N.msgs,
    });
  }

  // 2. Throughput per load, each on a fresh system (empty queue, empty Redis).
  const loadNames = ['5k', 'rcpt5', 'mix'].filter(want);
  res.runs5k = { postfix: [], mailbus: [] };
  for (const l of loadNames) {
    // The machine's speed drifts by ±20 % over minutes (shared host): the 5 KB
    // headline alternates the two systems REPS times and keeps each one's median.
    for (let rep = 0; rep < (l === '5k' ? REPS : 1); rep++) {
      await throughputPair(l, sink, res);
      if (l === '5k') {
        res.runs5k.postfix.push(res.postfix[l]);
        res.runs5k.mailbus.push(res.mailbus[l]);
      }
    }
    if (l === '5k') {
      res.postfix[l] = median(res.runs5k.postfix);
      res.mailbus[l] = median(res.runs5k.mailbus);
      res.mailbus[l].what = loads([0])[l].what;
    }
  }
  // Side figure: durability memory (no AOF; 250 before anything is on disk).
  if (want('memory')) {
    res.mailbusMemory['5k'] = await withMailbus(
      { sinkPort: sink.port, durability: 'memory' },
      (dep, roots, label) => {
        const jobs = [
          sourceArgs({ sessions: SESSIONS, count: N.memory, size: SIZE, port: dep.ports[0] }),
        ];
        return drive({
          name: 'mailbus 5k (durability memory)',
          sink,
          roots,
          label,
          jobs,
          expected: N.memory,
        });
      },
    );
  }

  // 3. Latency at half of mailbus's end-to-end rate, the same rate for both.
  if (want('latency')) {
    const max = res.mailbus['5k']?.e2ePerSec || 400;
    const rate = Math.max(10, Math.round(max / 2));
    res.latency.mailbus = await withMailbus({ sinkPort: nodeSink.port }, (dep) =>
      latency(dep.ports[0], rate, nodeSink, 'M'),
    );
    log(
      `mailbus latency at ${rate} msg/s: p50 ${res.latency.mailbus.p50Ms} ms, p99 ${res.latency.mailbus.p99Ms} ms`,
    );
    res.latency.postfix = await withPostfix(nodeSink.port, (pf) =>
      latency(pf.port, rate, nodeSink, 'P'),
    );
    log(
      `postfix latency at ${rate} msg/s: p50 ${res.latency.postfix.p50Ms} ms, p99 ${res.latency.postfix.p99Ms} ms`,
    );
  }

  // 4. Redis bytes per queued message: ingress only, schedule never.
  if (want('held')) {
    res.held = await withMailbus(
      { sinkPort: sink.port, bridgeheads: 0, schedule: 'never' },
      async (dep, roots, label, redis) => {
        const before = await redis.usedMemory();
        const meter = new CpuMeter(roots, label);
        const start = performance.now();
        // Many sessions: this measures memory, not speed, and fills the queue sooner.
        const r = await run(
          'smtp-source',
          sourceArgs({ sessions: HELD_SESSIONS, count: N.held, size: SIZE, port: dep.ports[0] }),
          { timeoutMs: 600_000 },
        );
        const s = (performance.now() - start) / 1000;
        const { cpuMs } = meter.finish();
        await sleep(500);
        const after = await redis.usedMemory();
        const queued = Number(await redis.client.zcard('mailbus:{Sink}:delayed'));
        const out = {
          messages: N.held,
          queued,
          sourceExit: r.code,
          usedMemoryBefore: before,
          usedMemoryAfter: after,
          bytesPerMessage: Math.round((after - before) / Math.max(1, queued)),
          ingestPerSec: round(N.held / s, 0),
          cpuMsPerMsg: Object.fromEntries(
            Object.entries(cpuMs).map(([k, v]) => [k, round(v / N.held, 3)]),
          ),
        };
        log(
          `held: ${queued} queued, ${out.bytesPerMessage} bytes/message in Redis, ingest ${out.ingestPerSec} msg/s`,
        );
        return out;
      },
    );
  }

  // 5. Scaling: separate ingress and bridgehead processes.
  if (want('scaling')) {
    const topologies = [
      { ingress: 1, bridgeheads: 1 },
      { ingress: 1, bridgeheads: 2 },
      { ingress: 1, bridgeheads: 4 },
      { ingress: 2, bridgeheads: 1 },
      { ingress: 2, bridgeheads: 2 },
    ];
    for (const t of topologies) {
      const r = await withMailbus({ sinkPort: sink.port, ...t }, (dep, roots, label) => {
        const jobs = dep.ports.map((port, i) =>
          sourceArgs({
            sessions: SESSIONS / dep.ports.length,
            count: N.scale / dep.ports.length + (i === 0 ? N.scale % dep.ports.length : 0),
            size: SIZE,
            port,
          }),
        );
        return drive({
          name: `mailbus ${t.ingress} ingress + ${t.bridgeheads} bridgehead`,
          sink,
          roots,
          label,
          jobs,
          expected: N.scale,
        });
      });
      res.scaling.push({ ...t, ...r });
    }
  }

  // 6. Profile: ingress and bridgehead processes under --cpu-prof during a 5 KB load.
  if (want('profile')) {
    const profDir = join(TMP, 'profiles');
    mkdirSync(profDir, { recursive: true });
    // NODE_OPTIONS may not carry --cpu-prof; pass it on the command line.
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
    await withMailbus(
      { sinkPort: sink.port, ingress: 1, bridgeheads: 1, nodeArgs },
      (dep, roots, label) => {
        const jobs = [
          sourceArgs({ sessions: SESSIONS, count: N.profile, size: SIZE, port: dep.ports[0] }),
        ];
        return drive({
          name: 'mailbus profile run',
          sink,
          roots,
          label,
          jobs,
          expected: N.profile,
        });
      },
    );
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    res.profile = {};
    const text = [];
    for (const f of files) {
      const p = JSON.parse(readFileSync(join(profDir, f), 'utf8'));
      // Which process: the gateway's argv is not in the profile; tell by what ran.
      const s = summarise(p, 30);
      const role = s.packages.some((x) => x.name === 'smtp-server') ? 'ingress' : 'bridgehead';
      res.profile[role] = s;
      text.push(
        formatSummary(
          s,
          `${role} (${f}, ${Math.round(statSync(join(profDir, f)).size / 1024)} KiB): `,
        ),
      );
    }
    if (!opt['no-write'])
      writeFileSync(
        join(RESULTS, `${BASE.replace('latest', 'profile')}.txt`),
        `${text.join('\n\n')}\n`,
      );
  }

  await nodeSink.stop();
  await sink.stop();
  const loadAfter = loadAverage();
  const out = {
    command: [
      'npm run bench',
      ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
    ].join(' '),
    experiments: IMPORTS.map((f) => relativePath(REPO, f)),
    argv: process.argv.slice(2),
    date: startedAt.toISOString(),
    durationSeconds: Math.round((performance.now() - t0) / 1000),
    loadAverage: { before: loadBefore, after: loadAfter },
    machine: facts,
    counts: N,
    ...res,
  };
  const table = report(out);
  process.stdout.write(`${table}\n`);
  if (!opt['no-write']) {
    writeFileSync(join(RESULTS, `${BASE}.json`), `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(join(RESULTS, `${BASE}.txt`), `${table}\n`);
  }
}

function ratio(m, p) {
  if (!Number.isFinite(m) || !Number.isFinite(p) || p === 0) return '-';
  return `${(m / p).toFixed(2)}×`;
}

function report(o) {
  const rows = [];
  const add = (figure, pf, mb, note = '') =>
    rows.push([figure, fmt(pf), fmt(mb), ratio(mb, pf), note]);
  const fmt = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : String(x));
  for (const [l, label] of [
    ['5k', '5 KB'],
    ['rcpt5', '5 KB × 5 rcpt'],
    ['mix', '1 MB mix'],
  ]) {
    const p = o.postfix[l];
    const m = o.mailbus[l];
    if (!p || !m) continue;
    add(`${label}: end-to-end msg/s`, p.e2ePerSec, m.e2ePerSec, 'higher is better');
    add(`${label}: ingest msg/s`, p.ingestPerSec, m.ingestPerSec, 'higher is better');
    add(
      `${label}: CPU ms/msg (all processes)`,
      p.cpuMsPerMsgTotal,
      m.cpuMsPerMsgTotal,
      'lower is better',
    );
    if (l === '5k')
      add(`${label}: peak RSS MiB (sum)`, p.peakRssMiBTotal, m.peakRssMiBTotal, 'lower is better');
  }
  if (o.latency.mailbus && o.latency.postfix) {
    add(
      `latency p50 ms @ ${o.latency.mailbus.rate} msg/s`,
      o.latency.postfix.p50Ms,
      o.latency.mailbus.p50Ms,
      '250 → arrival',
    );
    add(
      `latency p99 ms @ ${o.latency.mailbus.rate} msg/s`,
      o.latency.postfix.p99Ms,
      o.latency.mailbus.p99Ms,
      '250 → arrival',
    );
  }
  if (o.held.bytesPerMessage)
    add(
      'Redis bytes per queued 5 KB msg',
      undefined,
      o.held.bytesPerMessage,
      `${o.held.queued} held`,
    );
  const lines = [];
  lines.push(`mailbus vs Postfix — ${o.command}`);
  lines.push(
    `date ${o.date}, ${o.durationSeconds} s; load average before ${o.loadAverage.before.join(' ')}, after ${o.loadAverage.after.join(' ')}`,
  );
  const f = o.machine;
  lines.push(
    `machine: ${f.cpu}, ${f.memoryGiB} GiB, Linux ${f.kernel}, disk ${f.disk}; node ${f.node}, redis ${f.redis}, postfix ${f.postfix}`,
  );
  lines.push(
    'mailbus: 1 ingress + 1 bridgehead process, durability fsync (AOF appendfsync always); Postfix: Debian defaults, relayhost = sink',
  );
  if (o.experiments.length > 0)
    lines.push(
      `mailbus processes preloaded with (proposed changes, not the product as committed): ${o.experiments.join(', ')}`,
    );
  if (o.ceiling.e2ePerSec)
    lines.push(`raw ceiling (smtp-source → smtp-sink): ${o.ceiling.e2ePerSec} msg/s`);
  const runs = o.runs5k;
  if (runs && runs.postfix.length > 1)
    lines.push(
      `5 KB end-to-end, ${runs.postfix.length} alternating runs per system (the table shows each one's median run): ` +
        `Postfix ${runs.postfix.map((r) => r.e2ePerSec).join(', ')} msg/s; mailbus ${runs.mailbus.map((r) => r.e2ePerSec).join(', ')} msg/s; ` +
        `ratio per pair ${runs.mailbus.map((m, i) => ratio(m.e2ePerSec, runs.postfix[i]?.e2ePerSec)).join(', ')}`,
    );
  lines.push('');
  lines.push(table(['figure', 'Postfix', 'mailbus', 'mailbus/Postfix', ''], rows));
  const mem = o.mailbusMemory['5k'];
  if (mem)
    lines.push(
      `\nside figure, mailbus durability memory (not equal guarantees): 5 KB end-to-end ${mem.e2ePerSec} msg/s, ingest ${mem.ingestPerSec} msg/s, CPU ${mem.cpuMsPerMsgTotal} ms/msg`,
    );
  const cpuRows = [];
  for (const [sys, r] of [
    ['Postfix', o.postfix['5k']],
    ['mailbus', o.mailbus['5k']],
  ]) {
    if (!r) continue;
    for (const [k, v] of Object.entries(r.cpuMsPerMsg).sort((a, b) => b[1] - a[1]))
      cpuRows.push([sys, k, String(v), fmt(r.peakRssMiB[k])]);
  }
  if (cpuRows.length > 0) {
    lines.push('\n5 KB load, per process:');
    lines.push(table(['system', 'process', 'CPU ms/msg', 'peak RSS MiB'], cpuRows));
  }
  if (o.scaling.length > 0) {
    lines.push(`\nscaling (${o.counts.scale} × 5 KB, durability fsync):`);
    lines.push(
      table(
        [
          'ingress',
          'bridgeheads',
          'end-to-end msg/s',
          'ingest msg/s',
          'CPU ms/msg',
          'redis CPU ms/msg',
        ],
        o.scaling.map((s) => [
          String(s.ingress),
          String(s.bridgeheads),
          String(s.e2ePerSec),
          String(s.ingestPerSec),
          String(s.cpuMsPerMsgTotal),
          fmt(s.cpuMsPerMsg['redis-server']),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function table(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) => `| ${r.map((c, i) => String(c ?? '').padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join(
    '\n',
  );
}

main().then(
  () => shutdown(0),
  (e) => {
    log(`bench failed: ${e?.stack ?? e}`);
    void shutdown(1);
  },
);
