import type { RedisClient } from './redis-connection.js';

/** Waits for `p` at most `ms`; resolves undefined when the deadline passes first (or `p` fails). */
export async function withDeadline<T>(
  p: Promise<T> | undefined,
  ms: number,
): Promise<T | undefined> {
  if (!p) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.catch(() => undefined), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes a connection: QUIT when it is connected (answered within `quitMs`,
 * else dropped), dropped at once when it never connected (Redis unreachable):
 * with Redis gone, QUIT on a reconnecting client would wait forever.
 */
export async function closeConnection(
  client: RedisClient | undefined,
  quitMs = 2000,
): Promise<void> {
  if (!client) return;
  if (client.status !== 'ready') return client.disconnect();
  const quit = await withDeadline(
    client.quit().then(
      () => true,
      () => false,
    ),
    quitMs,
  );
  if (!quit) client.disconnect();
}
