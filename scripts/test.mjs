#!/usr/bin/env node
// Runs every compiled test file (`*.test.js` under each package's dist/)
// with Node's own test runner, in one run, so there is one summary.
// usage: node scripts/test.mjs [package-dir …] [--only PATTERN]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args.splice(onlyIdx, 2)[1] : undefined;
const dirs = args.length
  ? args.map((a) => resolve(a))
  : ['libs', 'services']
      .flatMap((k) => readdirSync(join(root, k)).map((n) => join(root, k, n)))
      .concat([join(root, 'test')]);

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules') walk(p, out);
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = dirs
  .flatMap((d) => walk(join(d, 'dist'), []))
  .filter((f) => !only || f.includes(only))
  .sort();
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const concurrency = process.env.MAILBUS_TEST_CONCURRENCY ?? '4';
const res = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=240000',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, MAILBUS_REPO_ROOT: root } },
);
process.exit(res.status ?? 1);
