import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes on
 * `clock` (wall time by default; a child's OwnClock to bound what the child
 * itself spends, not the machine's load). `what` may be a function, read when
 * the wait fails (say, the output so far).
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  {
    timeoutMs = 10_000,
    intervalMs = 25,
    what = 'condition',
    clock = Date.now,
  }: {
    timeoutMs?: number;
    intervalMs?: number;
    what?: string | (() => string);
    clock?: () => number;
  } = {},
): Promise<T> {
  const deadline = clock() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (clock() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`,
      );
    await sleep(intervalMs);
  }
}
