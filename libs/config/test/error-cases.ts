import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfigError } from '../src/config-error.js';
import { parseConfig } from '../src/load-config.js';

/** A config and the exact path of every error it must give, with a pattern its reason must match. */
export interface ErrorCase {
  name: string;
  yaml: string;
  errors: Array<[string, RegExp]>;
}

/** One test per case: exactly these error paths, in order, each reason matching. */
export function testErrorCases(cases: readonly ErrorCase[]): void {
  for (const c of cases) {
    test(c.name, () => {
      const r = parseConfig(c.yaml);
      const got = r.ok ? [] : r.errors;
      assert.deepEqual(
        got.map((e) => e.path),
        c.errors.map(([p]) => p),
        `errors were:\n${got.map(formatConfigError).join('\n')}`,
      );
      c.errors.forEach(([, re], i) => assert.match(got[i]?.reason ?? '', re));
    });
  }
}
