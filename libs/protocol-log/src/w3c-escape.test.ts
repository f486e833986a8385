import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { escapeW3CValue } from './w3c-escape.js';

// The reader side of the rule, written here independently of the writer.
function unescape(field: string): string {
  if (field === '-') return '';
  const bytes: number[] = [];
  const text = field.replace(/\+/g, ' ');
  for (let i = 0; i < text.length;) {
    if (text[i] === '%' && /^[0-9A-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const cp = text.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('escapeW3CValue', () => {
  const cases: Array<[string | number | undefined | null, string]> = [
    [undefined, '-'],
    [null, '-'],
    ['', '-'],
    ['-', '%2D'],
    [250, '250'],
    [0, '0'],
    [Number.NaN, '-'],
    ['FROM:<a@contoso.com>', 'FROM:<a@contoso.com>'],
    ['250 2.0.0 OK', '250+2.0.0+OK'],
    ['a+b', 'a%2Bb'],
    ['100%', '100%25'],
    ['%2B', '%252B'],
    ['line\r\nbreak', 'line%0D%0Abreak'],
    ['tab\there', 'tab%09here'],
    ['nul\u0000', 'nul%00'],
    ['del\u007f', 'del%7F'],
    ['c1\u0085', 'c1%C2%85'],
    ['ls\u2028', 'ls%E2%80%A8'],
    ['Grüße', 'Grüße'],
    [' leading', '+leading'],
    ['#Fields: x', '%23Fields:+x'],
    ['a#b', 'a#b'],
  ];
  for (const [input, expected] of cases) {
    test(`writes ${JSON.stringify(input)} as ${expected}`, () => {
      assert.equal(escapeW3CValue(input), expected);
    });
  }

  test('never writes a space or a control character, and round-trips every value', () => {
    const samples = [
      'AUTH PLAIN ****',
      '550 5.7.1 Unable to relay for x+y@contoso.com',
      '- + % %% ++ -- \r \n \t',
      'ünïcödé ✉ 🙂 +%-',
      '-',
      ' ',
      String.fromCharCode(...Array.from({ length: 0x20 }, (_, i) => i)),
    ];
    for (const s of samples) {
      const out = escapeW3CValue(s);
      assert.doesNotMatch(out, /[\s\x00-\x1f\x7f-\x9f\u2028\u2029]/, out);
      assert.equal(unescape(out), s);
    }
  });
});
