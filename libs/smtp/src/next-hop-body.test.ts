import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { nextHopBody, type OutgoingMessage } from './next-hop-body.js';

const EIGHT = Buffer.from(
  'Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln, liebe Leute\r\n',
  'utf8',
);
const UTF8_HEADER = Buffer.from('Subject: Grüße\r\n\r\nGrüße\r\n', 'utf8');
const FULL = ['8BITMIME', 'SMTPUTF8', 'DSN', 'PIPELINING'];

const m = (o: Partial<OutgoingMessage>): OutgoingMessage => ({
  sender: 'a@example.org',
  recipients: ['b@example.net'],
  body: EIGHT,
  body8bit: true,
  smtpUtf8: false,
  ...o,
});

describe('nextHopBody', () => {
  test('BODY=8BITMIME and SMTPUTF8 are passed on to a next hop that offers them, body as is', () => {
    const r = nextHopBody(m({ smtpUtf8: true, body: UTF8_HEADER }), FULL, 'mx');
    assert.deepEqual(r, {
      ok: true,
      body: UTF8_HEADER,
      body8bit: true,
      smtpUtf8: true,
      converted: 0,
    });
  });

  test('a 7-bit message is sent as is to any next hop', () => {
    const body = Buffer.from('Subject: x\r\n\r\nhi\r\n');
    const r = nextHopBody(m({ body, body8bit: false }), [], 'mx');
    assert.ok(r.ok);
    assert.equal(r.body, body);
    assert.equal(r.body8bit, false);
  });

  test('an 8-bit body to a next hop without 8BITMIME is made 7-bit, without BODY=8BITMIME', () => {
    const r = nextHopBody(m({}), ['PIPELINING'], 'mx');
    assert.ok(r.ok);
    assert.ok(isAscii(r.body));
    assert.equal(r.body8bit, false);
    assert.equal(r.converted, 1);
    assert.match(r.body.toString(), /Gr=C3=BC=C3=9Fe/);
  });

  test('one that cannot be made 7-bit is refused 554 5.6.3 naming the host and why', () => {
    const r = nextHopBody(m({ body: UTF8_HEADER }), [], 'mx.example.net[192.0.2.1]');
    assert.ok(!r.ok);
    assert.equal(r.reply.code, 554);
    assert.equal(r.reply.enhanced, '5.6.3');
    assert.match(r.reply.text, /mx\.example\.net\[192\.0\.2\.1\] does not offer 8BITMIME/);
    assert.match(r.reply.text, /8-bit octets in a header field/);
  });

  test('an SMTPUTF8 message with UTF-8 headers or addresses to a host without SMTPUTF8: 554 5.6.7', () => {
    for (const o of [
      { body: UTF8_HEADER },
      { sender: 'jörg@example.org', body: EIGHT },
      { recipients: ['b@example.net', 'dörte@example.net'], body: EIGHT },
    ]) {
      const r = nextHopBody(m({ smtpUtf8: true, ...o }), ['8BITMIME', 'DSN'], 'mx.example.net');
      assert.ok(!r.ok);
      assert.equal(r.reply.enhanced, '5.6.7');
      assert.equal(r.reply.code, 554);
      assert.match(
        r.reply.text,
        /SMTPUTF8 is required, but was not offered by host mx\.example\.net/,
      );
    }
  });

  test('an SMTPUTF8 message that is all ASCII goes to such a host, without the flag', () => {
    const r = nextHopBody(m({ smtpUtf8: true }), ['8BITMIME'], 'mx');
    assert.ok(r.ok);
    assert.equal(r.smtpUtf8, false);
    assert.equal(r.body8bit, true);
    assert.equal(r.body, EIGHT);
  });
});
