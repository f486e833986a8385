#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and
// per package, and inclusive time of the top-level phases.
//   node bench/profile-summary.mjs FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where a script URL lives: a package, a mailbus workspace, node itself. */
export function packageOf(url) {
  if (!url) return '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
  }
  const ws = /\/(libs|services)\/([^/]+)\//.exec(url);
  if (ws) return `@mailbus/${ws[2]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 13);
  const ws = /\/((?:libs|services)\/.*)$/.exec(url);
  return ws ? ws[1] : url.replace(/^file:\/\//, '');
}

export function summarise(profile, top = 25) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map();
  const byPkg = new Map();
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of self) {
    const n = nodes.get(id);
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    if (name === '(garbage collector)') gcUs += us;
    const key = `${name} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const pkg = name.startsWith('(') ? name : packageOf(cf.url);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rows = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({
        name: k,
        ms: Math.round(us / 1000),
        pctOfBusy: Math.round((1000 * us) / busyUs) / 10,
      }));
  return {
    wallMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    idlePct: Math.round((1000 * idleUs) / totalUs) / 10,
    gcPctOfBusy: Math.round((1000 * gcUs) / busyUs) / 10,
    functions: rows(byFn),
    packages: rows(byPkg),
  };
}

export function formatSummary(s, title = '') {
  const lines = [];
  lines.push(
    `${title}wall ${s.wallMs} ms, busy ${s.busyMs} ms (idle ${s.idlePct}%), GC ${s.gcPctOfBusy}% of busy`,
  );
  lines.push('  self time by package:');
  for (const r of s.packages.slice(0, 12))
    lines.push(
      `    ${String(r.pctOfBusy).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`,
    );
  lines.push('  self time by function:');
  for (const r of s.functions)
    lines.push(
      `    ${String(r.pctOfBusy).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`,
    );
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args[ti + 1]) : 25;
  const files = args.filter((a, i) => !a.startsWith('--') && i !== ti + 1);
  if (files.length === 0) {
    process.stderr.write('usage: node bench/profile-summary.mjs FILE.cpuprofile… [--top N]\n');
    process.exit(2);
  }
  for (const f of files) {
    const s = summarise(JSON.parse(readFileSync(f, 'utf8')), top);
    process.stdout.write(`${formatSummary(s, `${f}: `)}\n`);
  }
}
