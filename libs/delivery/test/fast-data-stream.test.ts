import { prng } from '@mailbus/testing';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream.js';
import { dotStuff, nodemailerTransform } from '../src/fast-data-stream.js';
import { OutboundDelivery } from '../src/index.js';
import { request, statuses, TIMEOUTS } from './outbound-fixture.js';
import { ScriptedSmtpServer } from './scripted-smtp-server.js';

/*
 * The DataStream._transform of src/fast-data-stream.ts against nodemailer's own
 * (nodemailerTransform), each on a real DataStream: the same chunks in must give
 * the same bytes out, pushed the same way, with the same byte counts.
 *
 * To explore other inputs: FAST_DATA_STREAM_SEED=<n> (the run's seed) and
 * FAST_DATA_STREAM_CASES=<n>. A failure prints the case's seed and its chunks.
 */

type Impl = 'fast' | 'nodemailer';

/** What nodemailer's DataStream keeps about the message (not in @types/nodemailer). */
interface DataStreamState {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
}

interface Run {
  /** Every buffer the stream pushed, in order, the trailer from _flush last. */
  pushed: Buffer[];
  out: Buffer;
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
}

/**
 * Writes the chunks to a fresh DataStream, ends it, and collects what it pushed.
 * `decodeStrings: false` lets string chunks reach _transform as strings.
 */
async function run(
  chunks: ReadonlyArray<Buffer | string>,
  impl: Impl,
  decodeStrings = true,
): Promise<Run> {
  const stream = new DataStream({ decodeStrings });
  if (impl === 'nodemailer') {
    (stream as unknown as { _transform: typeof nodemailerTransform })._transform =
      nodemailerTransform;
  }
  const pushed: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('data', (d: Buffer) => pushed.push(d));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  for (const c of chunks) stream.write(c);
  stream.end();
  await ended;
  const state = stream as unknown as DataStreamState;
  return {
    pushed,
    out: Buffer.concat(pushed),
    inByteCount: state.inByteCount,
    outByteCount: state.outByteCount,
    lastByte: state.lastByte,
  };
}

const show = (b: Buffer) => JSON.stringify(b.toString('latin1'));

/** Runs both transforms; returns a description of the first difference, or undefined. */
async function difference(
  chunks: ReadonlyArray<Buffer | string>,
  decodeStrings = true,
): Promise<string | undefined> {
  return (await compare(chunks, decodeStrings)).diff;
}

async function compare(
  chunks: ReadonlyArray<Buffer | string>,
  decodeStrings: boolean,
): Promise<{ diff: string | undefined; fast: Run }> {
  const fast = await run(chunks, 'fast', decodeStrings);
  const orig = await run(chunks, 'nodemailer', decodeStrings);
  return { diff: describeDifference(fast, orig), fast };
}

function describeDifference(fast: Run, orig: Run): string | undefined {
  if (!fast.out.equals(orig.out)) {
    let at = 0;
    while (at < fast.out.length && fast.out[at] === orig.out[at]) at++;
    return `output differs from byte ${at}\n  nodemailer: ${show(orig.out)}\n  fast:       ${show(fast.out)}`;
  }
  const sameChunks =
    fast.pushed.length === orig.pushed.length &&
    fast.pushed.every((b, i) => b.equals(orig.pushed[i] ?? Buffer.alloc(0)));
  if (!sameChunks) {
    return `pushed chunks differ\n  nodemailer: ${JSON.stringify(orig.pushed.map((b) => b.toString('latin1')))}\n  fast:       ${JSON.stringify(fast.pushed.map((b) => b.toString('latin1')))}`;
  }
  for (const k of ['inByteCount', 'outByteCount', 'lastByte'] as const) {
    if (fast[k] !== orig[k]) return `${k} differs: nodemailer ${orig[k]}, fast ${fast[k]}`;
  }
  if (fast.outByteCount !== fast.out.length) {
    return `outByteCount ${fast.outByteCount} is not the ${fast.out.length} bytes pushed`;
  }
  return undefined;
}

/** Both transforms give `expected` (latin1) for these chunks, and agree in every other way. */
async function assertBoth(
  chunks: ReadonlyArray<Buffer | string>,
  expected: string,
  decodeStrings = true,
): Promise<void> {
  const diff = await difference(chunks, decodeStrings);
  assert.equal(diff, undefined, diff);
  const fast = await run(chunks, 'fast', decodeStrings);
  assert.equal(fast.out.toString('latin1'), expected);
}

// ---------------------------------------------------------------------------
// Seeded generator

function weighted<T>(rand: () => number, table: ReadonlyArray<readonly [T, number]>): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [v, w] of table) {
    r -= w;
    if (r < 0) return v;
  }
  const last = table[table.length - 1];
  if (!last) throw new Error('empty table');
  return last[0];
}

const int = (rand: () => number, max: number) => Math.floor(rand() * (max + 1));

/** Weighted toward the bytes the transform looks at, and the NUL nodemailer treats as "no byte". */
const ALPHABET: ReadonlyArray<readonly [string, number]> = [
  ['\r', 5],
  ['\n', 5],
  ['.', 6],
  ['a', 5],
  ['\0', 2],
  ['b', 1],
  [' ', 1],
  ['\xff', 1],
];
const LINE_ENDS: ReadonlyArray<readonly [string, number]> = [
  ['\r\n', 6],
  ['\n', 4],
  ['\r', 1],
  ['\n\n', 1],
  ['\r\r\n', 1],
  ['', 1],
];
const LINE_STARTS: ReadonlyArray<readonly [string, number]> = [
  ['', 5],
  ['.', 4],
  ['..', 2],
  ['.\r\n', 1],
  ['\0', 1],
];

/** A message of random lines, as latin1 (one char per byte). */
function message(rand: () => number): string {
  const lines = weighted(rand, [
    [0, 1],
    [1, 3],
    [int(rand, 6), 6],
    [int(rand, 25), 3],
  ] as const);
  let m = '';
  for (let l = 0; l < lines; l++) {
    let line = weighted(rand, LINE_STARTS);
    const len = rand() < 0.05 ? 100 + int(rand, 300) : int(rand, 10);
    for (let i = 0; i < len; i++) line += rand() < 0.6 ? 'a' : weighted(rand, ALPHABET);
    const last = l === lines - 1;
    m += line + (last && rand() < 0.3 ? '' : weighted(rand, LINE_ENDS));
  }
  return m;
}

interface Coverage {
  oneByteChunks: number;
  emptyChunks: number;
  lfThenDot: number;
  crThenLf: number;
  nulThenDot: number;
  stringChunks: number;
  changed: number;
}

/** Where cutting is interesting: a line end before a dot, a CRLF cut in half, NUL before a dot. */
function boundary(m: string, p: number): keyof Coverage | undefined {
  const a = m[p - 1];
  const b = m[p];
  if (a === '\n' && b === '.') return 'lfThenDot';
  if (a === '\r' && b === '\n') return 'crThenLf';
  if (a === '\0' && b === '.') return 'nulThenDot';
  return undefined;
}

/** Splits a message into chunks: 1-byte, whole, or random cuts favouring the boundaries above. */
function split(rand: () => number, m: string, coverage: Coverage): string[] {
  const mode = weighted(rand, [
    ['bytes', 15],
    ['whole', 10],
    ['random', 75],
  ] as const);
  const cut = (p: number): boolean => {
    if (mode === 'bytes') return true;
    if (mode === 'whole') return false;
    return rand() < (boundary(m, p) ? 0.6 : 0.15);
  };
  const chunks: string[] = [];
  const emptyRate = rand() < 0.3 ? 0.2 : 0;
  const maybeEmpty = () => {
    if (rand() < emptyRate) chunks.push('');
  };
  maybeEmpty();
  let start = 0;
  for (let p = 1; p <= m.length; p++) {
    if (p === m.length || cut(p)) {
      chunks.push(m.slice(start, p));
      const kind = p < m.length ? boundary(m, p) : undefined;
      if (kind) coverage[kind]++;
      start = p;
      maybeEmpty();
    }
  }
  return chunks;
}

describe('fast DataStream transform = nodemailer DataStream transform', () => {
  test('the patch is in place: a DataStream uses the fast transform, not nodemailer\u2019s', () => {
    const proto = DataStream.prototype as unknown as { _transform: unknown };
    assert.notEqual(proto._transform, nodemailerTransform);
    assert.equal(typeof nodemailerTransform, 'function');
  });

  test('seeded random messages in random chunks: the same bytes, chunks and counts', async () => {
    const seed = Number(process.env.FAST_DATA_STREAM_SEED ?? 0x5eed2026);
    const cases = Number(process.env.FAST_DATA_STREAM_CASES ?? 3000);
    const coverage: Coverage = {
      oneByteChunks: 0,
      emptyChunks: 0,
      lfThenDot: 0,
      crThenLf: 0,
      nulThenDot: 0,
      stringChunks: 0,
      changed: 0,
    };
    const started = Date.now();
    for (let i = 0; i < cases; i++) {
      const caseSeed = (seed + i) >>> 0;
      const rand = prng(caseSeed);
      const m = message(rand);
      const parts = split(rand, m, coverage);
      // Some cases hand _transform strings (decodeStrings: false), the rest Buffers.
      const asStrings = rand() < 0.15;
      const chunks = asStrings ? parts : parts.map((p) => Buffer.from(p, 'latin1'));
      coverage.oneByteChunks += parts.filter((p) => p.length === 1).length;
      coverage.emptyChunks += parts.filter((p) => p.length === 0).length;
      if (asStrings) coverage.stringChunks++;
      const { diff, fast } = await compare(chunks, !asStrings);
      if (diff) {
        assert.fail(
          `case ${i}, seed ${caseSeed} (run seed ${seed}): ${diff}\n` +
            `  reproduce: FAST_DATA_STREAM_SEED=${caseSeed} FAST_DATA_STREAM_CASES=1\n` +
            `  chunks (${asStrings ? 'strings, decodeStrings: false' : 'Buffers from latin1'}): ${JSON.stringify(parts)}`,
        );
      }
      // Stuffed or CRLF-fixed somewhere: more bytes out (before the trailer) than in.
      const trailer = fast.pushed.at(-1)?.length ?? 0;
      if (fast.out.length - trailer !== fast.inByteCount) coverage.changed++;
    }
    const ms = Date.now() - started;
    // The generator did reach the cases that matter, in numbers (not when replaying one case).
    for (const [k, n] of Object.entries(coverage)) {
      if (cases < 1000) break;
      assert.ok(n >= 100, `only ${n} cases of ${k} in ${cases}: ${JSON.stringify(coverage)}`);
    }
    console.log(`# ${cases} cases, seed ${seed}, ${ms} ms: ${JSON.stringify(coverage)}`);
  });

  describe('named cases, with the expected bytes spelled out', () => {
    const cases: Array<{ name: string; chunks: string[]; expected: string }> = [
      {
        name: 'a message starting with "."',
        chunks: ['.hidden\r\nrest\r\n'],
        expected: '..hidden\r\nrest\r\n.\r\n',
      },
      {
        name: 'a line of "." alone',
        chunks: ['a\r\n.\r\nb\r\n'],
        expected: 'a\r\n..\r\nb\r\n.\r\n',
      },
      { name: 'a ".." line', chunks: ['a\r\n..\r\nb\r\n'], expected: 'a\r\n...\r\nb\r\n.\r\n' },
      {
        name: 'the whole message is "."',
        chunks: ['.'],
        expected: '..\r\n.\r\n',
      },
      { name: 'a bare LF at the start', chunks: ['\nabc'], expected: '\r\nabc\r\n.\r\n' },
      {
        name: 'a bare LF at the start, then a dot',
        chunks: ['\n.x\n'],
        expected: '\r\n..x\r\n.\r\n',
      },
      {
        name: 'bare LFs in a row and before a dot',
        chunks: ['a\n\n.\n'],
        expected: 'a\r\n\r\n..\r\n.\r\n',
      },
      {
        name: 'CRLF split across chunks: no second CR',
        chunks: ['a\r', '\nb\r\n'],
        expected: 'a\r\nb\r\n.\r\n',
      },
      {
        name: 'CRLF split across chunks with a dot after',
        chunks: ['a\r', '\n.b\r\n'],
        expected: 'a\r\n..b\r\n.\r\n',
      },
      {
        name: 'LF then "." split across chunks',
        chunks: ['a\n', '.b\r\n'],
        expected: 'a\r\n..b\r\n.\r\n',
      },
      {
        name: 'CRLF then "." split across chunks',
        chunks: ['a\r\n', '.b\r\n'],
        expected: 'a\r\n..b\r\n.\r\n',
      },
      {
        name: 'CR then "." across chunks is not a line start',
        chunks: ['a\r', '.b'],
        expected: 'a\r.b\r\n.\r\n',
      },
      {
        // nodemailer's `!this.lastByte` is true for a NUL: it dot-stuffs here. Matched, not fixed.
        name: 'NUL then "." across chunks: nodemailer stuffs it, so the fast one does',
        chunks: ['a\0', '.b'],
        expected: 'a\0..b\r\n.\r\n',
      },
      {
        name: 'NUL then "." in one chunk is not stuffed',
        chunks: ['a\0.b'],
        expected: 'a\0.b\r\n.\r\n',
      },
      {
        name: 'NUL then a bare LF across chunks',
        chunks: ['a\0', '\nb'],
        expected: 'a\0\r\nb\r\n.\r\n',
      },
      {
        name: 'one byte per chunk',
        chunks: [...'.a\n.\r\n..\r\nb\r'],
        expected: '..a\r\n..\r\n...\r\nb\r\n.\r\n',
      },
      {
        name: 'empty chunks between, before and after',
        chunks: ['', 'a\n', '', '.b\r', '', '\n', ''],
        expected: 'a\r\n..b\r\n.\r\n',
      },
      { name: 'an empty message', chunks: [], expected: '\r\n.\r\n' },
      { name: 'only empty chunks', chunks: ['', ''], expected: '\r\n.\r\n' },
      { name: 'ends with CR: the trailer completes it', chunks: ['a\r'], expected: 'a\r\n.\r\n' },
      { name: 'ends with LF', chunks: ['a\n'], expected: 'a\r\n.\r\n' },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        await assertBoth(
          c.chunks.map((s) => Buffer.from(s, 'latin1')),
          c.expected,
        );
      });
    }

    test('string chunks, decoded by the stream and handed to _transform as strings', async () => {
      const chunks = ['.a\n', '.b\r', '\n..c\n', '', 'caf\u00e9\n.\u00e9'];
      const expected = Buffer.from('..a\r\n..b\r\n...c\r\ncaf\u00e9\r\n..\u00e9\r\n.\r\n');
      for (const decodeStrings of [true, false]) {
        await assertBoth(chunks, expected.toString('latin1'), decodeStrings);
      }
    });

    test('a 1 MB CRLF message with no dots: dotStuff returns the same Buffer, no copy', async () => {
      const line = `${'x'.repeat(76)}\r\n`;
      const body = Buffer.from(line.repeat(Math.ceil(1_048_576 / line.length)));
      assert.ok(body.length >= 1_048_576);
      assert.equal(dotStuff(body, undefined), body);
      assert.equal(dotStuff(body, 0x0a), body);
      assert.equal(dotStuff(body, 0x0d), body);
      // Through the streams too: both push the input itself, then the trailer.
      for (const impl of ['fast', 'nodemailer'] as const) {
        const r = await run([body], impl);
        assert.equal(r.pushed.length, 2, impl);
        assert.equal(r.pushed[0], body, `${impl} pushed a copy`);
        assert.equal(r.pushed[1]?.toString(), '.\r\n');
      }
    });

    test('a 1 MB message full of dots and bare LFs, in 64 KiB chunks: the same bytes', async () => {
      const lines = ['.a\r\n', '..\r\n', 'b\n', '.\n', 'c\r', '\n'];
      let s = '';
      for (let i = 0; s.length < 1_048_576; i++) s += lines[i % lines.length];
      const body = Buffer.from(s);
      const chunks: Buffer[] = [];
      for (let p = 0; p < body.length; p += 65_536) chunks.push(body.subarray(p, p + 65_536));
      const diff = await difference(chunks);
      assert.equal(diff, undefined, diff);
    });

    test('dotStuff on its own: one chunk, each kind of last byte', () => {
      const b = (s: string) => Buffer.from(s, 'latin1');
      assert.equal(dotStuff(b('.a\nb'), undefined).toString('latin1'), '..a\r\nb');
      assert.equal(dotStuff(b('.a'), 0x0a).toString('latin1'), '..a');
      assert.equal(dotStuff(b('.a'), 0x0d).toString('latin1'), '.a');
      assert.equal(dotStuff(b('\n.'), 0x0d).toString('latin1'), '\n..');
      assert.equal(dotStuff(b('\n.'), 0x61).toString('latin1'), '\r\n..');
      assert.equal(dotStuff(b('\n'), undefined).toString('latin1'), '\r\n');
    });
  });
});

// ---------------------------------------------------------------------------
// End to end: OutboundDelivery -> nodemailer SMTPConnection -> DataStream -> a server

/** What nodemailer's own DataStream writes for this body: the wire bytes of the DATA phase. */
async function nodemailerWire(body: Buffer): Promise<string> {
  return (await run([body], 'nodemailer')).out.toString('latin1');
}

describe('fast DataStream end to end through OutboundDelivery', () => {
  let peer: ScriptedSmtpServer | undefined;
  let delivery: OutboundDelivery | undefined;
  afterEach(async () => {
    delivery?.close();
    await peer?.close();
    peer = undefined;
    delivery = undefined;
  });

  /** Delivers one body; returns the message the server recorded and the bytes after DATA. */
  async function deliver(body: string): Promise<{ message: string | undefined; wire: string }> {
    peer = await ScriptedSmtpServer.start();
    delivery = new OutboundDelivery(TIMEOUTS);
    const r = await delivery.deliver(request(peer.port, { body: Buffer.from(body, 'latin1') }));
    assert.deepEqual(statuses(r), ['bob@fabrikam.test delivered']);
    const s = peer.sessions[0];
    assert.equal(s?.messages.length, 1);
    const all = s?.chunks.join('') ?? '';
    const data = all.indexOf('DATA\r\n');
    assert.ok(data >= 0, 'no DATA command');
    return { message: s?.messages[0], wire: all.slice(data + 'DATA\r\n'.length) };
  }

  test('a CRLF body with lines of ".", "..", ".x": stuffed on the wire, received exactly', async () => {
    const body =
      '.first line starts with a dot\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n..\r\n...\r\nlast line\r\n';
    const { message, wire } = await deliver(body);
    // The server records the body without its final CRLF, dot-unstuffed.
    assert.equal(`${message}\r\n`, body);
    const stuffed =
      '..first line starts with a dot\r\nSubject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n...\r\n....\r\nlast line\r\n.\r\n';
    assert.equal(wire.slice(0, stuffed.length), stuffed);
    assert.equal(stuffed, await nodemailerWire(Buffer.from(body, 'latin1')));
  });

  test('a body with bare LFs in the middle: sent as CRLF, the same bytes nodemailer sends', async () => {
    // The ingress refuses bare line endings, so production bodies are CRLF; this is nodemailer parity.
    const body = 'Subject: bare\r\n\r\nline one\nline two\r\n.dot after CRLF\n..dots after LF\nend';
    const { message, wire } = await deliver(body);
    assert.equal(message, body.replace(/(?<!\r)\n/g, '\r\n'));
    const expected = await nodemailerWire(Buffer.from(body, 'latin1'));
    assert.equal(wire.slice(0, expected.length), expected);
    assert.ok(expected.endsWith('end\r\n.\r\n'));
  });
});
