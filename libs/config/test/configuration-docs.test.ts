import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../src/schema.js';

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
}

/** Strips optional / default / prefault / nullable / transform wrappers. */
function unwrap(def: Def): Def {
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  return inner ? unwrap(inner._zod.def) : def;
}

/** Leaf key paths of an object schema, relative to it: `relay.allow`, `addressSpaces[].cost`. */
function leafPaths(def: Def, prefix = ''): string[] {
  const d = unwrap(def);
  if (d.type === 'object' && d.shape) {
    return Object.entries(d.shape).flatMap(([k, v]) => leafPaths(v._zod.def, `${prefix}${k}.`));
  }
  if (d.type === 'array' && d.element && unwrap(d.element._zod.def).type === 'object') {
    return leafPaths(d.element._zod.def, `${prefix.slice(0, -1)}[].`);
  }
  return [prefix.slice(0, -1)];
}

const repoRoot =
  process.env.MAILBUS_REPO_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

test('docs/configuration.md documents every config key, per section', () => {
  const docs = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8');
  const missing: string[] = [];
  const top = unwrap(configSchema._zod.def as unknown as Def);
  for (const [key, schema] of Object.entries(top.shape ?? {})) {
    if (!docs.includes(`| \`${key}\` |`)) missing.push(key);
    const d = unwrap(schema._zod.def);
    const section =
      d.type === 'array' && d.element
        ? unwrap(d.element._zod.def)
        : d.type === 'object'
          ? d
          : undefined;
    if (section?.type !== 'object') continue;
    for (const p of leafPaths(section)) {
      if (!docs.includes(`| \`${p}\` |`)) missing.push(`${key}: ${p}`);
    }
  }
  assert.deepEqual(missing, []);
});
