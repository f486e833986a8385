import type { Writable } from 'node:stream';

const coalescing = new WeakSet<Writable>();

/**
 * Makes every write to `stream` issued in the same tick go out together: the
 * first write corks the stream and a process.nextTick uncorks it, so N
 * writes cost one writev system call instead of N. For a Redis connection
 * that carries many sessions' commands, or an SMTP DATA body and its
 * terminating dot; on this machine a loopback write costs ~30 µs of CPU,
 * more than most of what a message does (bench/, docs/performance.md). The
 * bytes and their order are unchanged; they leave at most one tick later.
 */
export function coalesceWrites(stream: Writable): void {
  if (coalescing.has(stream)) return;
  coalescing.add(stream);
  const write = stream.write;
  let corked = false;
  const flush = () => {
    corked = false;
    stream.uncork();
  };
  stream.write = function coalescedWrite(this: Writable, ...args: Parameters<Writable['write']>) {
    if (!corked && !stream.destroyed) {
      corked = true;
      stream.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as Writable['write'];
}
