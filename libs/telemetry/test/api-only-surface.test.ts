import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/this.js → dist/src
const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

test('the main entry point imports @opentelemetry/api and no SDK package', async () => {
  const seen = new Set<string>();
  const imports = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = await readFile(join(srcDir, file), 'utf8');
    for (const m of code.matchAll(/(?:import|export)[^'"]*from\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] as string;
      if (spec.startsWith('./')) await visit(spec.slice(2));
      else imports.add(spec);
    }
  };
  await visit('index.js');
  assert.ok(seen.size > 5, 'walked the module graph');
  const otel = [...imports].filter((s) => s.startsWith('@opentelemetry/'));
  assert.deepEqual(otel, ['@opentelemetry/api']);
  assert.ok(!seen.has('sdk.js'));
  // sdk.js exists separately, for services' main.ts.
  assert.ok((await readdir(srcDir)).includes('sdk.js'));
});
