// Process plumbing for the benchmark: free ports, children that are always
// stopped on exit, and CPU / memory accounting from /proc.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, openSync, closeSync } from 'node:fs';
import { createServer, connect } from 'node:net';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Everything started by the bench, stopped in reverse order by stopAll(). */
const cleanups = [];

export function onCleanup(fn) {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function stopAll() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`cleanup: ${e?.message ?? e}\n`);
    }
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (bounded). */
export async function waitForPort(port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const c = connect({ host: '127.0.0.1', port });
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Waits until a file contains a string (bounded). */
export async function waitForText(file, text, timeoutMs = 30_000, child) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let s = '';
    try {
      s = readFileSync(file, 'utf8');
    } catch {
      // not yet
    }
    if (s.includes(text)) return;
    if (child && child.exitCode !== null)
      throw new Error(
        `${child.spawnargs.join(' ')} exited (${child.exitCode}); see ${file}:\n${s.slice(-2000)}`,
      );
    await sleep(50);
  }
  throw new Error(`"${text}" did not appear in ${file} within ${timeoutMs} ms`);
}

/**
 * Spawns a long-lived child whose stdout/stderr go to a log file, registered
 * for cleanup: SIGTERM, then SIGKILL after graceMs.
 */
export function startChild(cmd, args, { log, env, graceMs = 15_000, cwd } = {}) {
  const fd = log ? openSync(log, 'a') : 'ignore';
  const child = spawn(cmd, args, {
    stdio: ['ignore', fd, fd],
    env: env ?? process.env,
    ...(cwd ? { cwd } : {}),
  });
  if (typeof fd === 'number') closeSync(fd);
  child.on('error', (e) => process.stderr.write(`${cmd}: ${e.message}\n`));
  const stop = () => stopChild(child, graceMs);
  const remove = onCleanup(stop);
  child.stopNow = async () => {
    remove();
    await stop();
  };
  return child;
}

export async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Runs a command to completion (bounded), collecting output. */
export function run(cmd, args, { timeoutMs = 600_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const remove = onCleanup(() => child.kill('SIGKILL'));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      remove();
      resolve({ code, out, err, ms: performance.now() - started, startedAt: started });
    });
  });
}

/** utime, stime, cutime, cstime (ms), comm, ppid of a pid, or undefined once gone. */
export function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = s.indexOf('(');
    const close = s.lastIndexOf(')');
    const comm = s.slice(open + 1, close);
    const f = s.slice(close + 2).split(' ');
    // f[0] = state (field 3); utime is field 14 → f[11]
    const tick = 1000 / CLK_TCK;
    return {
      pid,
      comm,
      ppid: Number(f[1]),
      utime: Number(f[11]) * tick,
      stime: Number(f[12]) * tick,
      cutime: Number(f[13]) * tick,
      cstime: Number(f[14]) * tick,
    };
  } catch {
    return undefined;
  }
}

/** Peak and current RSS in KiB from /proc/<pid>/status. */
export function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+)/.exec(s);
    const rss = /VmRSS:\s+(\d+)/.exec(s);
    return { hwmKiB: hwm ? Number(hwm[1]) : 0, rssKiB: rss ? Number(rss[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants. */
export function processTree(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(st.pid);
    children.set(st.ppid, list);
  }
  const out = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/**
 * CPU accounting over root pids and their whole process trees, sampled every
 * 200 ms so that short-lived children (Postfix's smtpd exits after max_use
 * sessions) are attributed to their own name; what exited children used
 * after their last sample is taken from the root's cutime+cstime and shown
 * as "(exited children)". Peak RSS is the largest VmHWM seen per name.
 */
export class CpuMeter {
  constructor(roots, label = (st) => st.comm, intervalMs = 200) {
    this.roots = roots;
    this.label = label;
    /** pid → { name, first, last, alive, root } */
    this.pids = new Map();
    this.rootReaped = new Map();
    this.peak = new Map();
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), intervalMs);
  }

  sample(initial) {
    const seen = new Set();
    for (const root of this.roots) {
      const rs = procStat(root.pid);
      if (rs) {
        const reaped = rs.cutime + rs.cstime;
        const r = this.rootReaped.get(root.pid);
        if (!r) this.rootReaped.set(root.pid, { first: reaped, last: reaped });
        else r.last = reaped;
      }
      for (const pid of processTree(root.pid)) {
        const st = procStat(pid);
        if (!st) continue;
        seen.add(pid);
        const ms = st.utime + st.stime;
        let e = this.pids.get(pid);
        if (!e) {
          e = {
            name: this.label(st, root),
            first: initial ? ms : 0,
            last: ms,
            root: root.pid,
            alive: true,
          };
          this.pids.set(pid, e);
        } else e.last = ms;
        const m = procMem(pid);
        if (m) this.peak.set(e.name, Math.max(this.peak.get(e.name) ?? 0, m.hwmKiB));
      }
    }
    for (const [pid, e] of this.pids) if (!seen.has(pid)) e.alive = false;
  }

  /** CPU ms per name since construction, and peak RSS (KiB) per name. */
  finish() {
    this.sample(false);
    clearInterval(this.timer);
    const cpuMs = {};
    const exitedSeen = new Map();
    for (const [pid, e] of this.pids) {
      cpuMs[e.name] = (cpuMs[e.name] ?? 0) + Math.max(0, e.last - e.first);
      if (!e.alive && pid !== e.root)
        exitedSeen.set(e.root, (exitedSeen.get(e.root) ?? 0) + e.last);
    }
    let rest = 0;
    for (const [pid, r] of this.rootReaped)
      rest += Math.max(0, r.last - r.first - (exitedSeen.get(pid) ?? 0));
    if (rest > 0) cpuMs['(exited children)'] = rest;
    return { cpuMs, peakKiB: Object.fromEntries(this.peak) };
  }
}

/** /proc/loadavg as [1, 5, 15]. */
export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}
