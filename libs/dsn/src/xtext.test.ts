import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeXtext, encodeXtext } from './xtext.js';

describe('xtext (RFC 3461 section 4)', () => {
  const pairs: readonly [string, string][] = [
    ['bob@example.com', 'bob@example.com'],
    ['a+b=c', 'a+2Bb+3Dc'],
    ['with space', 'with+20space'],
    ['jörg', 'j+C3+B6rg'],
  ];
  for (const [plain, xtext] of pairs) {
    test(`encodes ${JSON.stringify(plain)} as ${xtext} and back`, () => {
      assert.equal(encodeXtext(plain), xtext);
      assert.equal(decodeXtext(xtext), plain);
    });
  }
  for (const bad of ['a+2', 'a+zz', 'a b', 'a=b']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.equal(decodeXtext(bad), undefined));
  }
});

test('accepts lower-case hex from lenient clients', () =>
  assert.equal(decodeXtext('a+2bb'), 'a+b'));
