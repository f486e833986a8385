import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { coalesceWrites } from './coalesce-writes.js';

/** A Writable that records every system-call-sized write it is asked to do. */
class RecordingWritable extends Writable {
  /** One entry per _write/_writev call: the chunks it carried, as text. */
  readonly calls: string[][] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.calls.push([chunk.toString('latin1')]);
    cb();
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ): void {
    this.calls.push(chunks.map((c) => c.chunk.toString('latin1')));
    cb();
  }

  /** Everything written so far, in the order it went out. */
  get bytes(): string {
    return this.calls.flat().join('');
  }
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('coalesceWrites', () => {
  test('writes issued in one tick go out as one writev, in order and unchanged', async () => {
    const w = new RecordingWritable();
    coalesceWrites(w);
    w.write('MAIL FROM:<a@contoso.com>\r\n');
    w.write(Buffer.from('RCPT TO:<b@fabrikam.com>\r\n'));
    w.write('DATA\r\n');
    // Nothing leaves before the tick ends: that is what lets the writes share one call.
    assert.deepEqual(w.calls, []);
    await nextTurn();
    assert.deepEqual(w.calls, [
      ['MAIL FROM:<a@contoso.com>\r\n', 'RCPT TO:<b@fabrikam.com>\r\n', 'DATA\r\n'],
    ]);
  });

  test('writes in later ticks still flow, each tick as its own batch', async () => {
    const w = new RecordingWritable();
    coalesceWrites(w);
    w.write('one');
    await nextTurn();
    w.write('two');
    w.write('three');
    await nextTurn();
    w.write('four');
    await nextTurn();
    assert.equal(w.calls.length, 3);
    assert.equal(w.bytes, 'onetwothreefour');
    assert.equal(w.writableCorked, 0, 'the stream is left uncorked between ticks');
  });

  test('each write’s callback still runs and the byte count matches what was written', async () => {
    const w = new RecordingWritable();
    coalesceWrites(w);
    const done: number[] = [];
    for (let i = 0; i < 5; i++) w.write(`line ${i}\r\n`, () => done.push(i));
    await nextTurn();
    assert.deepEqual(done, [0, 1, 2, 3, 4]);
    assert.equal(w.bytes, [0, 1, 2, 3, 4].map((i) => `line ${i}\r\n`).join(''));
  });

  test('calling it twice on a stream is harmless: one batch, nothing doubled, left uncorked', async () => {
    const w = new RecordingWritable();
    coalesceWrites(w);
    const wrapped = w.write;
    coalesceWrites(w);
    assert.equal(w.write, wrapped, 'the second call does not wrap write again');
    w.write('a');
    w.write('b');
    await nextTurn();
    assert.deepEqual(w.calls, [['a', 'b']]);
    assert.equal(w.writableCorked, 0);
  });

  test('write and end in the same tick: everything is written before the stream finishes', async () => {
    const w = new RecordingWritable();
    coalesceWrites(w);
    const finished = new Promise<void>((r) => w.once('finish', () => r()));
    w.write('body\r\n');
    w.end('.\r\n');
    await finished;
    assert.equal(w.bytes, 'body\r\n.\r\n');
  });

  describe('on a real socket pair over loopback', () => {
    let server: Server;
    let port: number;
    const accepted: Socket[] = [];
    before(async () => {
      server = createServer((s) => accepted.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const addr = server.address();
      port = typeof addr === 'object' && addr ? addr.port : 0;
    });
    after(async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });

    /** Connects, coalesces the client socket, and collects what the peer receives. */
    async function pair(): Promise<{ client: Socket; received: () => Promise<Buffer> }> {
      const seen = accepted.length;
      const client = connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      coalesceWrites(client);
      // The server side of this connection, once accepted.
      while (accepted.length === seen) await nextTurn();
      const peer = accepted[seen] as Socket;
      const chunks: Buffer[] = [];
      peer.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<void>((r) => peer.once('end', () => r()));
      return { client, received: () => ended.then(() => Buffer.concat(chunks)) };
    }

    test('the peer gets every byte of many same-tick writes, in order', async () => {
      const { client, received } = await pair();
      const lines = Array.from({ length: 200 }, (_, i) => `RCPT TO:<user${i}@fabrikam.com>\r\n`);
      for (const l of lines) client.write(l);
      // A binary chunk with every byte value, to show nothing is re-encoded.
      const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      client.write(binary);
      client.end();
      const got = await received();
      assert.deepEqual(got, Buffer.concat([Buffer.from(lines.join(''), 'latin1'), binary]));
    });

    test('writes spread over several ticks reach the peer in order', async () => {
      const { client, received } = await pair();
      const expected: string[] = [];
      for (let tick = 0; tick < 5; tick++) {
        for (let i = 0; i < 3; i++) {
          const l = `tick ${tick} write ${i}\r\n`;
          expected.push(l);
          client.write(l);
        }
        await nextTurn();
      }
      client.end();
      assert.equal((await received()).toString('latin1'), expected.join(''));
    });

    test('a body and its terminating dot written in one tick leave in one system call', async () => {
      const { client, received } = await pair();
      const handle = client as unknown as {
        _writev: (...args: unknown[]) => unknown;
        _write: (...args: unknown[]) => unknown;
      };
      const calls: string[] = [];
      const writev = handle._writev.bind(client);
      const write = handle._write.bind(client);
      handle._writev = (...args: unknown[]) => (calls.push('writev'), writev(...args));
      handle._write = (...args: unknown[]) => (calls.push('write'), write(...args));
      client.write(Buffer.alloc(5000, 'x'));
      client.write('\r\n.\r\n');
      await nextTurn();
      assert.deepEqual(calls, ['writev']);
      client.end();
      assert.equal((await received()).length, 5005);
    });
  });
});
