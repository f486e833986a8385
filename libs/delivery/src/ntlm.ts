import { createHmac } from 'node:crypto';
import { md4 } from './md4.js';

/**
 * NTLM messages for a client (MS-NLMP): NEGOTIATE, the server's CHALLENGE,
 * and AUTHENTICATE with an NTLMv2 response. Pure: the client challenge and
 * the time are parameters. No session security (SMTP AUTH needs none).
 */

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const FLAG = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  N128: 0x20000000,
  N56: 0x80000000,
} as const;
const CLIENT_FLAGS =
  FLAG.UNICODE |
  FLAG.OEM |
  FLAG.REQUEST_TARGET |
  FLAG.NTLM |
  FLAG.ALWAYS_SIGN |
  FLAG.EXTENDED_SESSIONSECURITY |
  FLAG.N128 |
  FLAG.N56;
/** MsvAvTimestamp in the target information (MS-NLMP 2.2.2.1). */
const AV_TIMESTAMP = 7;
/** Milliseconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01. */
const FILETIME_EPOCH_MS = 11_644_473_600_000n;

/** The NEGOTIATE_MESSAGE: flags only, no domain or workstation. */
export function negotiateMessage(): Buffer {
  const b = Buffer.alloc(32);
  SIGNATURE.copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(CLIENT_FLAGS >>> 0, 12);
  return b;
}

export interface NtlmChallenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
}

/** Reads a CHALLENGE_MESSAGE; undefined when it is not one. */
export function parseChallenge(b: Buffer): NtlmChallenge | undefined {
  if (b.length < 32 || !b.subarray(0, 8).equals(SIGNATURE) || b.readUInt32LE(8) !== 2) {
    return undefined;
  }
  const flags = b.readUInt32LE(20);
  const serverChallenge = Buffer.from(b.subarray(24, 32));
  let targetInfo = Buffer.alloc(0);
  if (b.length >= 48 && flags & FLAG.TARGET_INFO) {
    const len = b.readUInt16LE(40);
    const off = b.readUInt32LE(44);
    if (off + len > b.length) return undefined;
    targetInfo = Buffer.from(b.subarray(off, off + len));
  }
  return { flags, serverChallenge, targetInfo };
}

/** The NT hash: MD4 of the UTF-16LE password. */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/** NTOWFv2: HMAC-MD5 keyed with the NT hash over UPPER(user) + domain, UTF-16LE. */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return createHmac('md5', ntHash(password))
    .update(Buffer.from(user.toUpperCase() + domain, 'utf16le'))
    .digest();
}

/** The server's timestamp (MsvAvTimestamp) in the target information, if it sent one. */
function avTimestamp(targetInfo: Buffer): Buffer | undefined {
  for (let off = 0; off + 4 <= targetInfo.length;) {
    const id = targetInfo.readUInt16LE(off);
    const len = targetInfo.readUInt16LE(off + 2);
    if (id === 0) return undefined;
    if (id === AV_TIMESTAMP && len === 8)
      return Buffer.from(targetInfo.subarray(off + 4, off + 12));
    off += 4 + len;
  }
  return undefined;
}

/** A FILETIME (100 ns since 1601) of `ms` since 1970, little-endian. */
export function fileTime(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(Math.floor(ms)) + FILETIME_EPOCH_MS) * 10_000n);
  return b;
}

export interface Ntlmv2Input {
  user: string;
  domain: string;
  password: string;
  serverChallenge: Buffer;
  clientChallenge: Buffer;
  /** FILETIME, 8 bytes. */
  timestamp: Buffer;
  targetInfo: Buffer;
}

/**
 * The NTLMv2 and LMv2 responses (MS-NLMP 3.3.2): NTProofStr = HMAC-MD5 keyed
 * with NTOWFv2 over the server challenge and the client's blob (version,
 * timestamp, client challenge, target information); the NT response is
 * NTProofStr followed by the blob.
 */
export function ntlmv2Response(i: Ntlmv2Input): { nt: Buffer; lm: Buffer } {
  const key = ntowfv2(i.password, i.user, i.domain);
  const blob = Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
    i.timestamp,
    i.clientChallenge,
    Buffer.alloc(4),
    i.targetInfo,
    Buffer.alloc(4),
  ]);
  const proof = createHmac('md5', key).update(i.serverChallenge).update(blob).digest();
  const lm = Buffer.concat([
    createHmac('md5', key).update(i.serverChallenge).update(i.clientChallenge).digest(),
    i.clientChallenge,
  ]);
  return { nt: Buffer.concat([proof, blob]), lm };
}

/** `DOMAIN\user` → its parts; anything else (also `user@domain`) is a user with no domain. */
export function splitUsername(username: string): { user: string; domain: string } {
  const i = username.indexOf('\\');
  return i < 0
    ? { user: username, domain: '' }
    : { user: username.slice(i + 1), domain: username.slice(0, i) };
}

/**
 * The AUTHENTICATE_MESSAGE answering `challenge` for `username` (`DOMAIN\user`
 * or `user`), with an NTLMv2 response. `now` and `clientChallenge` are
 * parameters; the server's timestamp is used when it sent one (and the
 * LMv2 response is then zeros, MS-NLMP 3.1.5.1.2).
 */
export function authenticateMessage(o: {
  challenge: NtlmChallenge;
  username: string;
  password: string;
  workstation: string;
  clientChallenge: Buffer;
  now: number;
}): Buffer {
  const { user, domain } = splitUsername(o.username);
  const serverTime = avTimestamp(o.challenge.targetInfo);
  const r = ntlmv2Response({
    user,
    domain,
    password: o.password,
    serverChallenge: o.challenge.serverChallenge,
    clientChallenge: o.clientChallenge,
    timestamp: serverTime ?? fileTime(o.now),
    targetInfo: o.challenge.targetInfo,
  });
  const unicode = (o.challenge.flags & FLAG.UNICODE) !== 0;
  const text = (s: string) => Buffer.from(s, unicode ? 'utf16le' : 'latin1');
  const fields = [
    serverTime ? Buffer.alloc(24) : r.lm,
    r.nt,
    text(domain),
    text(user),
    text(o.workstation.toUpperCase()),
    Buffer.alloc(0),
  ];
  const header = Buffer.alloc(64);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  let offset = header.length;
  fields.forEach((f, i) => {
    const at = 12 + i * 8;
    header.writeUInt16LE(f.length, at);
    header.writeUInt16LE(f.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += f.length;
  });
  const flags =
    (o.challenge.flags & CLIENT_FLAGS & ~(unicode ? FLAG.OEM : FLAG.UNICODE)) | FLAG.NTLM;
  header.writeUInt32LE(flags >>> 0, 60);
  return Buffer.concat([header, ...fields]);
}
