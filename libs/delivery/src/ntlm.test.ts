import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { md4 } from './md4.js';
import {
  authenticateMessage,
  negotiateMessage,
  ntHash,
  ntlmv2Response,
  ntowfv2,
  parseChallenge,
  splitUsername,
} from './ntlm.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('MD4 (RFC 1320 appendix A.5 test suite)', () => {
  const suite: Array<[string, string]> = [
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      'e33b4ddc9c38f2199c3e7b164fcc0536',
    ],
  ];
  for (const [input, digest] of suite) {
    test(`MD4("${input.slice(0, 20)}${input.length > 20 ? '…' : ''}")`, () => {
      assert.equal(md4(Buffer.from(input, 'latin1')).toString('hex'), digest);
    });
  }
});

describe('NTLMv2 (MS-NLMP 4.2.4 sample: User, Domain, Password)', () => {
  const serverChallenge = hex('0123456789abcdef');
  const clientChallenge = hex('aaaaaaaaaaaaaaaa');
  const targetInfo = hex(
    '02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000',
  );

  test('the NT hash and NTOWFv2', () => {
    assert.equal(ntHash('Password').toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
    assert.equal(
      ntowfv2('Password', 'User', 'Domain').toString('hex'),
      '0c868a403bfd7a93a3001ef22ef02e3f',
    );
  });

  test('LMv2 response and NTProofStr', () => {
    const r = ntlmv2Response({
      user: 'User',
      domain: 'Domain',
      password: 'Password',
      serverChallenge,
      clientChallenge,
      timestamp: Buffer.alloc(8),
      targetInfo,
    });
    assert.equal(r.lm.toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    assert.equal(r.nt.subarray(0, 16).toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c');
  });

  test('NEGOTIATE, CHALLENGE read back, AUTHENTICATE with the fields where the server reads them', () => {
    const n = negotiateMessage();
    assert.equal(n.subarray(0, 8).toString('latin1'), 'NTLMSSP\0');
    assert.equal(n.readUInt32LE(8), 1);
    // A CHALLENGE as a server builds it: Unicode, target info present.
    const c = Buffer.alloc(48 + targetInfo.length);
    c.write('NTLMSSP\0', 0, 'latin1');
    c.writeUInt32LE(2, 8);
    c.writeUInt32LE(0x00818205, 20);
    serverChallenge.copy(c, 24);
    c.writeUInt16LE(targetInfo.length, 40);
    c.writeUInt16LE(targetInfo.length, 42);
    c.writeUInt32LE(48, 44);
    targetInfo.copy(c, 48);
    const challenge = parseChallenge(c);
    assert.ok(challenge);
    assert.deepEqual(challenge.serverChallenge, serverChallenge);
    assert.deepEqual(challenge.targetInfo, targetInfo);
    assert.equal(parseChallenge(n), undefined, 'a NEGOTIATE is no CHALLENGE');

    const a = authenticateMessage({
      challenge,
      username: 'Domain\\User',
      password: 'Password',
      workstation: 'computer',
      clientChallenge,
      now: 0,
    });
    assert.equal(a.readUInt32LE(8), 3);
    const field = (i: number) => {
      const len = a.readUInt16LE(12 + i * 8);
      const off = a.readUInt32LE(16 + i * 8);
      return a.subarray(off, off + len);
    };
    assert.equal(field(2).toString('utf16le'), 'Domain');
    assert.equal(field(3).toString('utf16le'), 'User');
    assert.equal(field(4).toString('utf16le'), 'COMPUTER');
    const nt = field(1);
    // The server's check: HMAC-MD5(NTOWFv2, server challenge + blob) is the proof sent.
    const again = ntlmv2Response({
      user: 'User',
      domain: 'Domain',
      password: 'Password',
      serverChallenge,
      clientChallenge,
      timestamp: nt.subarray(24, 32),
      targetInfo,
    });
    assert.deepEqual(nt, again.nt);
  });

  test('DOMAIN\\user splits; user@domain is a user name as it stands', () => {
    assert.deepEqual(splitUsername('CONTOSO\\alice'), { user: 'alice', domain: 'CONTOSO' });
    assert.deepEqual(splitUsername('alice@contoso.com'), {
      user: 'alice@contoso.com',
      domain: '',
    });
  });
});
