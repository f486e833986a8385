import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { redactCommand, splitCommandLine } from './redact-command.js';

describe('redactCommand', () => {
  const cases: Array<[string, string, string, string]> = [
    ['AUTH', 'PLAIN AGFsaWNlAHNlY3JldA==', 'AUTH', 'PLAIN ****'],
    ['auth', 'plain AGFsaWNlAHNlY3JldA==', 'auth', 'plain ****'],
    ['AUTH', 'LOGIN YWxpY2U=', 'AUTH', 'LOGIN ****'],
    ['AUTH', 'XOAUTH2 dXNlcj1h', 'AUTH', 'XOAUTH2 ****'],
    ['AUTH', 'LOGIN', 'AUTH', 'LOGIN'],
    ['AUTH', 'CRAM-MD5', 'AUTH', 'CRAM-MD5'],
    ['MAIL', 'FROM:<a@contoso.com> SIZE=100', 'MAIL', 'FROM:<a@contoso.com> SIZE=100'],
    ['EHLO', 'client.example', 'EHLO', 'client.example'],
  ];
  for (const [verb, args, method, logged] of cases) {
    test(`logs "${verb} ${args}" as "${method} ${logged}"`, () => {
      assert.deepEqual(redactCommand(verb, args), { method, args: logged });
    });
  }

  test('logs a base64 continuation line during AUTH as ****', () => {
    assert.deepEqual(redactCommand('YWxpY2U=', '', { authContinuation: true }), {
      method: '',
      args: '****',
    });
    assert.deepEqual(redactCommand('c2VjcmV0', '', { authContinuation: true }).args, '****');
  });

  test('redacts a base64 line even when the caller lost track of the AUTH exchange', () => {
    for (const line of [
      'YWxpY2U=',
      'c2VjcmV0',
      'AGFsaWNlAHNlY3JldA==',
      'dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0AQE=',
    ]) {
      assert.deepEqual(redactCommand(line, ''), { method: '', args: '****' }, line);
    }
    // Real verbs, and lines with arguments, are commands.
    assert.deepEqual(redactCommand('DATA', ''), { method: 'DATA', args: '' });
    assert.deepEqual(redactCommand('STARTTLS', ''), { method: 'STARTTLS', args: '' });
    assert.deepEqual(redactCommand('QUIT', ''), { method: 'QUIT', args: '' });
    assert.deepEqual(redactCommand('GET', '/ HTTP/1.1'), { method: 'GET', args: '/ HTTP/1.1' });
  });

  test('keeps the client cancelling AUTH with * visible', () => {
    assert.deepEqual(redactCommand('*', '', { authContinuation: true }), { method: '', args: '*' });
  });
});

describe('splitCommandLine', () => {
  test('splits verb and arguments at the first space and drops the line ending', () => {
    assert.deepEqual(splitCommandLine('MAIL FROM:<a@b> SIZE=1\r\n'), {
      verb: 'MAIL',
      args: 'FROM:<a@b> SIZE=1',
    });
    assert.deepEqual(splitCommandLine('DATA'), { verb: 'DATA', args: '' });
  });
});
