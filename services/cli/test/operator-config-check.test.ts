import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mailbus, workDir } from './mailbus-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The config and the output docs/configuration.md shows under "Every error at once". */
function documentedExample(): { yaml: string; output: string[] } {
  const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Every error at once'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  const console = /```console\n\$ mailbus config check\n([\s\S]*?)\$ echo \$\?\n1\n```/.exec(
    section,
  )?.[1];
  assert.ok(yaml && console, 'docs/configuration.md has the example config and its output');
  return { yaml, output: console.trim().split('\n') };
}

test('`mailbus config check` reports unknown keys, durations, wrong values and rule errors in one run, in file order, each with its code; exit 1', () => {
  const { yaml, output } = documentedExample();
  const { dir } = workDir(yaml);
  // No --config: ./mailbus.yaml, as documented.
  const r = mailbus(['config', 'check'], { cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.deepEqual(lines, output);
  // Every kind is there, each line `<path>: <reason> [MAILBUS_ERR_CONFIG_…]`.
  for (const code of ['UNKNOWN_KEY', 'DURATION', 'VALUE', 'RULE'])
    assert.ok(
      lines.some((l) => l.endsWith(`[MAILBUS_ERR_CONFIG_${code}]`)),
      code,
    );
  for (const l of lines) assert.match(l, /^[\w.[\]]+: .+ \[MAILBUS_ERR_CONFIG_[A-Z_]+\]$/);
  // `mailbus start` refuses the same file with the same lines, before it touches Redis.
  const start = mailbus(['start'], { cwd: dir });
  assert.equal(start.status, 1, start.stdout + start.stderr);
  assert.deepEqual(start.stderr.trim().split('\n'), output);
});

test('fixing the errors `config check` listed leaves none hidden: the fixed file passes', () => {
  const { dir } = workDir(`organization: contoso
tracking: { retention: 1w }
virtualServers:
  - name: default
    fqdn: mail.contoso.com
    maxHops: 30
connectors:
  - name: A
    smartHosts: ["[192.0.2.1]"]
    bridgeheads: [default]
    retry: { expireAfter: 2d }
    addressSpaces: [{ domain: "*", cost: 1 }]
  - name: B
    dns: true
    bridgeheads: [default]
    addressSpaces: [{ domain: "*.net" }]
`);
  const r = mailbus(['config', 'check'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mailbus\.yaml: OK \(1 virtual server, 2 connectors\)/);
});
