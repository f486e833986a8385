import { readFileSync } from 'node:fs';
import { scrypt as scryptCb, randomBytes, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { verifyCramMd5 } from './cram-md5.js';

function scrypt(
  password: string,
  salt: Buffer,
  keylen: number,
  opts: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (e, k) => (e ? reject(e) : resolve(k))),
  );
}

/**
 * Users allowed to AUTH, from a users file: one `name:hash[:cram]` per line,
 * `#` comments. Hash format: `$scrypt$N=16384,r=8,p=1$<salt b64>$<key b64>`;
 * `cram`, for AUTH CRAM-MD5, `$cram-md5$<states hex>` (cram-md5.ts). Both
 * written by `mailbus user add` (`--cram-md5` for the second).
 */
export class UserDirectory {
  private constructor(
    private readonly users: Map<string, string>,
    private readonly cram: Map<string, string> = new Map(),
  ) {}

  static fromFile(path: string): UserDirectory {
    return UserDirectory.parse(readFileSync(path, 'utf8'));
  }

  static parse(text: string): UserDirectory {
    const users = new Map<string, string>();
    const cram = new Map<string, string>();
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const [name = '', hash = '', cramSecret] = line.split(':');
      if (name === '') continue;
      users.set(name, hash);
      if (cramSecret) cram.set(name, cramSecret);
    }
    return new UserDirectory(users, cram);
  }

  /** Whether any user can AUTH CRAM-MD5 (EHLO lists it only then). */
  offersCramMd5(): boolean {
    return this.cram.size > 0;
  }

  /** AUTH CRAM-MD5 (RFC 2195): the client's hex response to `challenge`. */
  verifyCramMd5(user: string, challenge: string, response: string): boolean {
    const secret = this.cram.get(user);
    return secret !== undefined && verifyCramMd5(secret, challenge, response);
  }

  /** The user names, in file order. */
  names(): string[] {
    return [...this.users.keys()];
  }

  async verify(user: string, password: string): Promise<boolean> {
    const stored = this.users.get(user);
    if (!stored) {
      // Same work for unknown users: no timing oracle for user names.
      await hashPassword(password);
      return false;
    }
    return verifyPassword(password, stored);
  }
}

const PARAMS = { N: 16384, r: 8, p: 1 };

/** Hashes a password for the users file. */
export async function hashPassword(
  password: string,
  salt: Buffer = randomBytes(16),
): Promise<string> {
  const key = await scrypt(password, salt, 32, PARAMS);
  return `$scrypt$N=${PARAMS.N},r=${PARAMS.r},p=${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[5] as string, 'base64');
  const key = await scrypt(password, Buffer.from(m[4] as string, 'base64'), expected.length, {
    N: Number(m[1]),
    r: Number(m[2]),
    p: Number(m[3]),
    maxmem: 256 * 1024 * 1024,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
