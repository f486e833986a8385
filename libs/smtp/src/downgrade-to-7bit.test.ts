import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { downgradeTo7bit } from './downgrade-to-7bit.js';
import { encodeQuotedPrintable } from './content-transfer-encoding.js';

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
const msg = (s: string) => Buffer.from(crlf(s), 'utf8');

function decodeQp(s: string): Buffer {
  const soft = s.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=') {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(soft.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

function converted(input: Buffer): string {
  const r = downgradeTo7bit(input);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.ok(isAscii(r.message), 'the result is 7-bit');
  for (const line of r.message.toString('latin1').split('\r\n')) assert.ok(line.length <= 998);
  return r.message.toString('latin1');
}

describe('downgradeTo7bit', () => {
  test('a 7-bit message is returned as it is', () => {
    const m = msg('Subject: hi\n\nplain\n');
    const r = downgradeTo7bit(m);
    assert.ok(r.ok);
    assert.equal(r.message, m);
    assert.equal(r.converted, 0);
  });

  test('an 8bit text/plain body becomes quoted-printable that decodes to the original', () => {
    const body = 'Grüße aus Köln, naïve café.\n=equals and trailing space \n';
    const m = msg(
      `From: a@example.org\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${body}`,
    );
    const out = converted(m);
    const [head, enc] = out.split('\r\n\r\n') as [string, string];
    assert.match(head, /^Content-Transfer-Encoding: quoted-printable$/m);
    assert.doesNotMatch(head, /8bit/);
    assert.match(head, /^From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n/);
    assert.equal(decodeQp(enc).toString('utf8'), crlf(body));
    assert.match(enc, /Gr=C3=BC=C3=9Fe/);
    assert.match(enc, /=3Dequals/);
    assert.match(enc, /space=20\r\n/);
  });

  test('text that is mostly 8-bit, and non-text parts, become base64', () => {
    const ru = 'Привет, мир! Это письмо на русском языке.\n';
    const out = converted(
      msg(
        `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\nMIME-Version: 1.0\n\n${ru}`,
      ),
    );
    const [head, enc] = out.split('\r\n\r\n') as [string, string];
    assert.match(head, /^Content-Transfer-Encoding: base64$/m);
    assert.equal(Buffer.from(enc, 'base64').toString('utf8'), crlf(ru));
  });

  test('a multipart message: only its 8-bit parts change, boundaries and 7-bit parts stay', () => {
    const bin = Buffer.from([0x00, 0xff, 0x80, 0x41, 0x0d, 0x0a, 0xfe]);
    const m = Buffer.concat([
      msg(
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\nContent-Transfer-Encoding: 8bit\n\npreamble\n--b1\nContent-Type: text/plain\n\nascii part\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nÜber alles, ganz normal\n--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n',
      ),
      bin,
      msg('\n--b1--\nepilogue\n'),
    ]);
    const r = downgradeTo7bit(m);
    assert.ok(r.ok);
    assert.equal(r.converted, 2);
    const out = converted(m);
    assert.match(out, /^Content-Transfer-Encoding: 7bit$/m, 'the multipart is now 7bit');
    assert.ok(
      out.includes('preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nascii part\r\n--b1\r\n'),
    );
    assert.ok(
      out.includes(
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C3=9Cber alles, ganz normal\r\n--b1\r\n',
      ),
    );
    const b64 =
      /application\/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--b1--\r\nepilogue\r\n$/.exec(
        out,
      );
    assert.ok(b64, out);
    assert.deepEqual(Buffer.from(b64[1] as string, 'base64'), bin);
  });

  test('nested multiparts and message/rfc822 parts are converted inside', () => {
    const m = msg(
      'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary="inner"\n\n--inner\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nBonjour, ça va bien\n--inner--\n--outer\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\nSubject: fwd\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\na naïve approach\n--outer--\n',
    );
    const out = converted(m);
    assert.match(
      out,
      /charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nBonjour, =C3=A7a va bien\r\n--inner--/,
    );
    assert.match(
      out,
      /Content-Type: message\/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject: fwd\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na na=C3=AFve approach\r\n--outer--/,
    );
  });

  test('a part without Content-Transfer-Encoding gets one; folded fields are replaced whole', () => {
    const out = converted(
      msg(
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain;\n charset=utf-8\n\ncafé au lait\n--b\nContent-Transfer-Encoding:\n 8bit\n\ntrès bien merci\n--b--\n',
      ),
    );
    assert.match(
      out,
      /charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 au lait\r\n--b/,
    );
    assert.match(
      out,
      /--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ntr=C3=A8s bien merci\r\n--b--/,
    );
  });

  test('a message without MIME fields is labelled text/plain (utf-8, or unknown-8bit)', () => {
    const out = converted(msg('Subject: old\n\nbäh, so what\n'));
    assert.match(
      out,
      /^Subject: old\r\nMIME-Version: 1.0\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nb=C3=A4h, so what\r\n$/,
    );
    const latin1 = converted(Buffer.from('Subject: old\r\n\r\nb\xe4h, so what\r\n', 'latin1'));
    assert.match(latin1, /charset=unknown-8bit/);
    assert.match(latin1, /b=E4h/);
  });

  test('long 8-bit lines are soft-broken at 76 characters', () => {
    const line = 'ü'.repeat(10) + 'a'.repeat(2000);
    const out = converted(msg(`Content-Type: text/plain\nMIME-Version: 1.0\n\n${line}\n`));
    const enc = out.split('\r\n\r\n')[1] as string;
    for (const l of enc.split('\r\n')) assert.ok(l.length <= 76, `${l.length}`);
    assert.equal(decodeQp(enc).toString('utf8'), `${line}\r\n`);
  });

  test('what cannot be made 7-bit unchanged is refused with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['Subject: Grüße\n\nbody ü\n', /8-bit octets in a header field/],
      [
        'MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nw\xfc\n',
        /a text\/plain part encoded as base64 that contains 8-bit octets/,
      ],
      [
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\nprëamble\n--b\n\nx\n--b--\n',
        /8-bit octets in the multipart preamble/,
      ],
      [
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\nëpilogue\n',
        /8-bit octets in the multipart epilogue/,
      ],
      ['MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nü\n', /without a boundary/],
    ];
    for (const [text, reason] of cases) {
      const r = downgradeTo7bit(msg(text));
      assert.ok(!r.ok, text);
      assert.match(r.reason, reason);
    }
  });
});

describe('encodeQuotedPrintable', () => {
  test('never splits an =XX escape across a soft line break', () => {
    const body = Buffer.from('a' + 'é'.repeat(60), 'utf8');
    const enc = encodeQuotedPrintable(body).toString('latin1');
    for (const l of enc.split('\r\n')) {
      assert.ok(l.length <= 76);
      assert.doesNotMatch(l, /=[0-9A-F]?=$/);
    }
    assert.deepEqual(decodeQp(enc), body);
  });
});
