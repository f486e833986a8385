import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT =
  process.env.MAILBUS_REPO_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'test') continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('every MAILBUS_ERR_ code used in the source is documented in docs/errors.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const used = new Set<string>();
  for (const kind of ['libs', 'services']) {
    for (const pkg of readdirSync(join(ROOT, kind))) {
      const src = join(ROOT, kind, pkg, 'src');
      try {
        statSync(src);
      } catch {
        continue;
      }
      for (const f of sources(src))
        for (const m of readFileSync(f, 'utf8').matchAll(/MAILBUS_ERR_[A-Z_]+/g)) used.add(m[0]);
    }
  }
  assert.ok(used.size > 0, 'found error codes in the source');
  const missing = [...used].filter((c) => !doc.includes(`\`${c}\``)).sort();
  assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
});
