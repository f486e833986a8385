import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { cramMd5Secret, verifyCramMd5 } from './cram-md5.js';

test('a response made with the password verifies against the stored secret; any other does not', () => {
  for (const password of [
    'branch-pw',
    '',
    'x'.repeat(64),
    'é'.repeat(40),
    randomBytes(90).toString('hex'),
  ]) {
    const secret = cramMd5Secret(password);
    assert.doesNotMatch(secret, new RegExp(password.slice(0, 8) || '^$'));
    const challenge = `<${randomBytes(8).toString('hex')}.1700000000@hub.mailbus.test>`;
    const response = createHmac('md5', password).update(challenge).digest('hex');
    assert.equal(verifyCramMd5(secret, challenge, response), true, password);
    assert.equal(verifyCramMd5(secret, `${challenge}x`, response), false);
    assert.equal(verifyCramMd5(cramMd5Secret(`${password}!`), challenge, response), false);
  }
});

test('the RFC 2202 HMAC-MD5 vectors verify through the stored states', () => {
  assert.equal(
    verifyCramMd5(
      cramMd5Secret('Jefe'),
      'what do ya want for nothing?',
      '750c783e6ab0b503eaa86e310a5db738',
    ),
    true,
  );
  // Test case 6: an 80-byte key (hashed first, RFC 2104).
  assert.equal(
    verifyCramMd5(
      cramMd5Secret('\xaa'.repeat(80)),
      'Test Using Larger Than Block-Size Key - Hash Key First',
      createHmac('md5', Buffer.from('\xaa'.repeat(80), 'utf8'))
        .update('Test Using Larger Than Block-Size Key - Hash Key First')
        .digest('hex'),
    ),
    true,
  );
});
