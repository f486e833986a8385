import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyError, classifyResponse, type FailureCategory } from './classify-error.js';

/** Errors as nodemailer's SMTPConnection raises them, from real sessions. */
const ERRORS: Array<{
  what: string;
  err: object;
  category: FailureCategory;
  code: number;
  enhanced: string;
}> = [
  {
    what: 'connection refused is a connection failure 4.4.1',
    err: { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:2526', command: 'CONN' },
    category: 'connection',
    code: 451,
    enhanced: '4.4.1',
  },
  {
    what: 'a connect timeout is a connection failure 4.4.2',
    err: { code: 'ETIMEDOUT', message: 'Connection timeout', command: 'CONN' },
    category: 'connection',
    code: 451,
    enhanced: '4.4.2',
  },
  {
    what: 'a 421 greeting is a connection failure keeping the remote text',
    err: {
      code: 'EPROTOCOL',
      responseCode: 421,
      response: '421 4.3.2 Service shutting down',
      command: 'CONN',
    },
    category: 'connection',
    code: 421,
    enhanced: '4.3.2',
  },
  {
    what: 'a 421 without an enhanced code gets the class code 4.0.0',
    err: {
      code: 'EPROTOCOL',
      responseCode: 421,
      response: '421 mx.example.com Too many connections',
      command: 'CONN',
    },
    category: 'connection',
    code: 421,
    enhanced: '4.0.0',
  },
  {
    what: 'STARTTLS missing when TLS is required is a connection failure 4.7.0',
    err: { code: 'ETLS', message: 'Server does not support STARTTLS', command: 'CONN' },
    category: 'connection',
    code: 451,
    enhanced: '4.7.0',
  },
  {
    what: 'wrong credentials (535) are not final: another host or connector may take the mail',
    err: {
      code: 'EAUTH',
      responseCode: 535,
      response: '535 5.7.8 Authentication credentials invalid',
      message: 'Invalid login: 535 5.7.8 Authentication credentials invalid',
      command: 'AUTH PLAIN',
    },
    category: 'connection',
    code: 535,
    enhanced: '5.7.8',
  },
  {
    what: 'a 451 after DATA is transient and keeps the remote reply',
    err: {
      code: 'EMESSAGE',
      responseCode: 451,
      response: '451 4.3.0 Error: queue file write error',
      command: 'DATA',
    },
    category: 'transient',
    code: 451,
    enhanced: '4.3.0',
  },
  {
    what: 'a 452 at RCPT is transient',
    err: {
      code: 'EENVELOPE',
      responseCode: 452,
      response: '452 4.2.2 Mailbox full',
      command: 'RCPT TO',
    },
    category: 'transient',
    code: 452,
    enhanced: '4.2.2',
  },
  {
    what: 'a 550 user unknown is permanent and keeps the remote reply',
    err: {
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550 5.1.1 <x@y.test>: Recipient address rejected: User unknown',
      command: 'RCPT TO',
    },
    category: 'permanent',
    code: 550,
    enhanced: '5.1.1',
  },
  {
    what: 'a 554 after DATA without an enhanced code is permanent 5.0.0',
    err: {
      code: 'EMESSAGE',
      responseCode: 554,
      response: '554 Transaction failed',
      command: 'DATA',
    },
    category: 'permanent',
    code: 554,
    enhanced: '5.0.0',
  },
  {
    what: 'a connection closed after DATA (no reply) is a connection failure: maybe taken, retry',
    err: { code: 'ECONNECTION', message: 'Connection closed unexpectedly', command: 'DATA' },
    category: 'connection',
    code: 451,
    enhanced: '4.4.1',
  },
  {
    what: 'an unknown error is never permanent',
    err: { message: 'something odd' },
    category: 'connection',
    code: 451,
    enhanced: '4.4.2',
  },
];

describe('classifyError: nodemailer errors to a failure category and reply', () => {
  for (const c of ERRORS) {
    test(c.what, () => {
      const r = classifyError(c.err, 'mx.example.test');
      assert.equal(r.category, c.category);
      assert.equal(r.reply.code, c.code);
      assert.equal(r.reply.enhanced, c.enhanced);
    });
  }
});

describe('classifyResponse: a per-recipient reply', () => {
  test('a 550 5.1.1 is permanent', () => {
    const r = classifyResponse(
      '550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in virtual mailbox table',
      'mx',
      'RCPT TO',
    );
    assert.equal(r.category, 'permanent');
    assert.equal(r.reply.enhanced, '5.1.1');
    assert.match(r.reply.text, /User unknown/);
    assert.equal(r.reply.inReplyTo, 'RCPT TO');
  });
  test('a 450 greylisting reply is transient', () => {
    const r = classifyResponse(
      '450 4.2.0 <a@b.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/',
      'mx',
      'RCPT TO',
    );
    assert.equal(r.category, 'transient');
    assert.equal(r.reply.enhanced, '4.2.0');
  });
  test('a reply without an enhanced code gets the class code', () => {
    const r = classifyResponse(
      "553 sorry, that domain isn't in my list of allowed rcpthosts",
      'mx',
      'RCPT TO',
    );
    assert.equal(r.category, 'permanent');
    assert.equal(r.reply.code, 553);
    assert.equal(r.reply.enhanced, '5.0.0');
  });
  test('garbage is transient, never permanent', () => {
    const r = classifyResponse('garbage', 'mx', 'RCPT TO');
    assert.equal(r.category, 'transient');
  });
});

describe('which command a reply answered', () => {
  test('a refusal at the end of DATA is "end of DATA", one of the DATA command "DATA"', () => {
    const end = classifyError(
      { code: 'EMESSAGE', responseCode: 554, response: '554 5.7.1 spam', command: 'DATA' },
      'mx',
    );
    assert.equal(end.reply.inReplyTo, 'end of DATA');
    const data = classifyError(
      { code: 'EENVELOPE', responseCode: 554, response: '554 5.5.1 no', command: 'DATA' },
      'mx',
    );
    assert.equal(data.reply.inReplyTo, 'DATA');
  });
  test('a 421 greeting answered the greeting; a refused connection answered nothing', () => {
    const greeting = classifyError(
      { code: 'EPROTOCOL', responseCode: 421, response: '421 4.3.2 bye', command: 'CONN' },
      'mx',
    );
    assert.equal(greeting.reply.inReplyTo, 'greeting');
    const refused = classifyError(
      { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:2526', command: 'CONN' },
      'mx',
    );
    assert.equal(refused.reply.inReplyTo, undefined);
  });
});
