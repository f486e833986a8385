import { test } from 'node:test';
import assert from 'node:assert/strict';
import { returnedPart } from './returned-part.js';

test('RET decides when given; without it only a trusted sender gets the full message; delay notices carry headers', () => {
  const cases: Array<[Parameters<typeof returnedPart>[0], 'FULL' | 'HDRS']> = [
    [{ requested: 'FULL', trustedSender: false, delay: false }, 'FULL'],
    [{ requested: 'HDRS', trustedSender: true, delay: false }, 'HDRS'],
    [{ requested: undefined, trustedSender: true, delay: false }, 'FULL'],
    [{ requested: undefined, trustedSender: false, delay: false }, 'HDRS'],
    [{ requested: 'FULL', trustedSender: true, delay: true }, 'HDRS'],
    [{ requested: undefined, trustedSender: true, delay: true }, 'HDRS'],
  ];
  for (const [input, want] of cases) assert.equal(returnedPart(input), want, JSON.stringify(input));
});
