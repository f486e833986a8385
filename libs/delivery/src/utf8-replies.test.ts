import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8Reply } from './utf8-replies.js';

const asNodemailerReadsIt = (s: string, enc: BufferEncoding = 'utf8'): string =>
  Buffer.from(s, enc).toString('latin1');

test('a UTF-8 reply read byte by byte as latin1 is decoded back to UTF-8', () => {
  assert.equal(utf8Reply(asNodemailerReadsIt('550 5.1.1 bäd — 메일')), '550 5.1.1 bäd — 메일');
});

test('an ASCII reply is kept as is', () => {
  assert.equal(utf8Reply('250 2.0.0 Ok: queued as 1A2B'), '250 2.0.0 Ok: queued as 1A2B');
});

test('a reply that is not valid UTF-8 (a legacy latin1 server) keeps its latin1 reading', () => {
  assert.equal(utf8Reply(asNodemailerReadsIt('550 bäd', 'latin1')), '550 bäd');
});
