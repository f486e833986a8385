import { prng } from '@mailbus/testing';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@mailbus/config';

const BASE = `organization: Test
redis: { url: "redis://127.0.0.1:6379", durability: fsync, commandTimeout: 3s }
recipientPolicies:
  - { domain: contoso.test, mailboxHosts: ["[192.0.2.9]:25"] }
virtualServers:
  - name: mx
    listen: 127.0.0.1:2525
    fqdn: mx.test
    maxMessageSizeKB: 64
    relay: { allow: [127.0.0.0/8] }
    limits: { maxConnections: 10, socketTimeout: 30s }
connectors:
  - name: Alpha
    smartHosts: ["[192.0.2.1]:25"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: a.example }, { domain: "*.b.example" }]
    retry: { intervals: [1m, 5m] }
`;

describe('fuzz: the config parser over mutated YAML', () => {
  const knownThrows: string[] = [];
  test('3000 mutated configs within 20 s: parseConfig never throws and returns ok or errors that each name a path', () => {
    assert.ok(parseConfig(BASE).ok, 'the seed config is valid');
    const random = prng(Number(process.env.MAILBUS_FUZZ_SEED ?? 11));
    const tokens = [
      '{',
      '}',
      '[',
      ']',
      ':',
      '-',
      ' ',
      '\n',
      '"',
      "'",
      '*',
      '&a',
      '*a',
      '!!binary',
      '~',
      'null',
      '-1',
      '1e999',
      '0x10',
      '101',
      '\t',
      '#',
      '<<: *a',
      '\u0000',
      'é',
      '%',
      '|',
      '>',
    ];
    const started = Date.now();
    let ok = 0;
    let rejected = 0;
    for (let i = 0; i < 3000 && Date.now() - started < 20_000; i++) {
      const chars = [...BASE];
      const n = 1 + Math.floor(random() * 8);
      for (let k = 0; k < n; k++) {
        const at = Math.floor(random() * chars.length);
        const op = random();
        if (op < 0.35) chars.splice(at, 1 + Math.floor(random() * 5));
        else if (op < 0.8)
          chars.splice(at, 0, tokens[Math.floor(random() * tokens.length)] as string);
        else chars[at] = String.fromCharCode(Math.floor(random() * 128));
      }
      const text = chars.join('');
      let r: ReturnType<typeof parseConfig>;
      try {
        r = parseConfig(text);
      } catch (e) {
        knownThrows.push(text);
        assert.fail(`parseConfig threw ${(e as Error).message} on:\n${text}`);
      }
      if (r.ok) ok++;
      else {
        rejected++;
        assert.ok(r.errors.length > 0, 'a rejection carries at least one error');
        for (const e of r.errors) {
          assert.equal(typeof e.path, 'string', `error has a path: ${JSON.stringify(e)}`);
          assert.ok(
            typeof e.reason === 'string' && e.reason.length > 0,
            `error has a reason: ${JSON.stringify(e)}`,
          );
        }
      }
    }
    console.log(
      `config fuzz: ${ok} accepted, ${rejected} rejected with paths, ${Date.now() - started} ms`,
    );
    assert.ok(ok + rejected >= 500);
  });

  test('an unresolved YAML alias (`*a` with no `&a`) is an error with a path, not a throw', () => {
    assert.deepEqual(knownThrows, []);
    const r = parseConfig('organization: *a\n');
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.errors[0]?.path === '(root)' && /alias/i.test(r.errors[0].reason));
  });
});
