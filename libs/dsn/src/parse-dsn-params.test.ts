import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply } from '@mailbus/smtp';
import { parseMailDsnParams, parseRcptDsnParams } from './parse-dsn-params.js';
import type { EsmtpArgs } from './parse-dsn-params.js';

describe('parseMailDsnParams (MAIL FROM RET= and ENVID=)', () => {
  const ok: readonly { name: string; args: EsmtpArgs; value: object }[] = [
    { name: 'takes nothing when neither is given', args: { SIZE: '1000' }, value: {} },
    { name: 'reads RET=HDRS in any case', args: { ret: 'hdrs' }, value: { ret: 'HDRS' } },
    {
      name: 'decodes an xtext ENVID',
      args: { RET: 'FULL', ENVID: 'QQ314159+2Bx+3Dy' },
      value: { ret: 'FULL', envelopeId: 'QQ314159+x=y' },
    },
  ];
  for (const c of ok) {
    test(c.name, () => assert.deepEqual(parseMailDsnParams(c.args), { ok: true, value: c.value }));
  }
  const bad: readonly { name: string; args: EsmtpArgs; reply: string }[] = [
    {
      name: 'refuses RET=BODY',
      args: { RET: 'BODY' },
      reply: '501 5.5.4 RET must be FULL or HDRS',
    },
    {
      name: 'refuses a bare RET',
      args: { RET: true },
      reply: '501 5.5.4 RET must be FULL or HDRS',
    },
    {
      name: 'refuses an ENVID with a bad escape',
      args: { ENVID: 'a+zz' },
      reply: '501 5.5.4 ENVID is not valid xtext (RFC 3461)',
    },
    {
      name: 'refuses an ENVID over 100 characters',
      args: { ENVID: 'x'.repeat(101) },
      reply: '501 5.5.4 ENVID must be 1 to 100 characters of xtext',
    },
  ];
  for (const c of bad) {
    test(c.name, () => {
      const r = parseMailDsnParams(c.args);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(formatReply(r.reply), c.reply);
    });
  }
});

describe('parseRcptDsnParams (RCPT TO NOTIFY= and ORCPT=)', () => {
  const ok: readonly { name: string; args: EsmtpArgs; value: object }[] = [
    { name: 'takes nothing when neither is given', args: {}, value: {} },
    { name: 'reads NOTIFY=NEVER', args: { NOTIFY: 'NEVER' }, value: { notify: ['NEVER'] } },
    {
      name: 'reads a NOTIFY list in any case, once each',
      args: { NOTIFY: 'success,Failure,DELAY,FAILURE' },
      value: { notify: ['SUCCESS', 'FAILURE', 'DELAY'] },
    },
    {
      name: 'decodes an ORCPT and lowercases its type',
      args: { ORCPT: 'RFC822;Bob+2Bsales@Example.com' },
      value: { originalRecipient: { type: 'rfc822', address: 'Bob+sales@Example.com' } },
    },
  ];
  for (const c of ok) {
    test(c.name, () => assert.deepEqual(parseRcptDsnParams(c.args), { ok: true, value: c.value }));
  }
  const bad: readonly { name: string; args: EsmtpArgs; reply: string }[] = [
    {
      name: 'refuses NEVER with other keywords',
      args: { NOTIFY: 'NEVER,DELAY' },
      reply: '501 5.5.4 NOTIFY=NEVER cannot be combined with other keywords',
    },
    {
      name: 'refuses an unknown NOTIFY keyword',
      args: { NOTIFY: 'ALWAYS' },
      reply: '501 5.5.4 NOTIFY keyword "ALWAYS" is not NEVER, SUCCESS, FAILURE or DELAY',
    },
    {
      name: 'refuses an ORCPT without a type',
      args: { ORCPT: 'bob@example.com' },
      reply: '501 5.5.4 ORCPT must be <type>;<xtext>, e.g. rfc822;user@example.com',
    },
    {
      name: 'refuses an ORCPT with a space',
      args: { ORCPT: 'rfc822;bob @example.com' },
      reply: '501 5.5.4 ORCPT address is not valid xtext (RFC 3461)',
    },
  ];
  for (const c of bad) {
    test(c.name, () => {
      const r = parseRcptDsnParams(c.args);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(formatReply(r.reply), c.reply);
    });
  }
});
