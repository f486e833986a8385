import { readFileSync } from 'node:fs';
import { scrypt as scryptCb, randomBytes, timingSafeEqual, type ScryptOptions } from 'node:crypto';

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
 * Users allowed to AUTH, from a users file: one `name:hash` per line, `#`
 * comments. Hash format: `$scrypt$N=16384,r=8,p=1$<salt b64>$<key b64>`
 * (written by `mailbus user add`).
 */
export class UserDirectory {
  private constructor(private readonly users: Map<string, string>) {}

  static fromFile(path: string): UserDirectory {
    return UserDirectory.parse(readFileSync(path, 'utf8'));
  }

  static parse(text: string): UserDirectory {
    const users = new Map<string, string>();
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const i = line.indexOf(':');
      if (i <= 0) continue;
      users.set(line.slice(0, i), line.slice(i + 1));
    }
    return new UserDirectory(users);
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
