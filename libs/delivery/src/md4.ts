/**
 * MD4 (RFC 1320), for the NT password hash of NTLM only: Node's OpenSSL 3
 * build no longer offers it. Not for anything else.
 */
export function md4(input: Buffer): Buffer {
  const bitLength = input.length * 8;
  const padded = Buffer.alloc(Math.ceil((input.length + 9) / 64) * 64);
  input.copy(padded);
  padded[input.length] = 0x80;
  padded.writeUInt32LE(bitLength >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(bitLength / 2 ** 32), padded.length - 4);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));
  const x = new Array<number>(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const w = (i: number) => x[i] as number;
    const f = (p: number, q: number, r: number) => (p & q) | (~p & r);
    const g = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
    const h = (p: number, q: number, r: number) => p ^ q ^ r;
    for (const i of [0, 4, 8, 12]) {
      a = rotl((a + f(b, c, d) + w(i)) | 0, 3);
      d = rotl((d + f(a, b, c) + w(i + 1)) | 0, 7);
      c = rotl((c + f(d, a, b) + w(i + 2)) | 0, 11);
      b = rotl((b + f(c, d, a) + w(i + 3)) | 0, 19);
    }
    for (const i of [0, 1, 2, 3]) {
      a = rotl((a + g(b, c, d) + w(i) + 0x5a827999) | 0, 3);
      d = rotl((d + g(a, b, c) + w(i + 4) + 0x5a827999) | 0, 5);
      c = rotl((c + g(d, a, b) + w(i + 8) + 0x5a827999) | 0, 9);
      b = rotl((b + g(c, d, a) + w(i + 12) + 0x5a827999) | 0, 13);
    }
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + h(b, c, d) + w(i) + 0x6ed9eba1) | 0, 3);
      d = rotl((d + h(a, b, c) + w(i + 8) + 0x6ed9eba1) | 0, 9);
      c = rotl((c + h(d, a, b) + w(i + 4) + 0x6ed9eba1) | 0, 11);
      b = rotl((b + h(c, d, a) + w(i + 12) + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  [a, b, c, d].forEach((v, i) => out.writeInt32LE(v, i * 4));
  return out;
}
