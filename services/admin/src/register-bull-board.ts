import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { QueueOperations } from '@mailbus/queue';
import type { FastifyInstance } from 'fastify';

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/** Where Bull Board is served. */
export const BOARD_PATH = '/queues';

/** `Internet` for `{Internet}`, `Internet #2` for partition `{Internet#2}`. */
export function displayName(queueName: string): string {
  const m = /^\{(.+?)(?:#(\d+))?\}$/.exec(queueName);
  if (!m?.[1]) return queueName;
  return m[2] ? `${m[1]} #${m[2]}` : m[1];
}

/**
 * Bull Board at /queues over every partition queue of every connector and
 * `@local`. It shares the admin's authentication (the hook runs before it).
 */
export async function registerBullBoard(
  app: FastifyInstance,
  ops: QueueOperations,
  organization: string,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: ops.allQueues().map(
      (q) =>
        new BullMQAdapter(q, {
          displayName: displayName(q.name),
          description: `BullMQ queue ${q.name}`,
        }),
    ),
    // @bull-board/fastify 9.10.1 pins its own @bull-board/api 9.10.1 next to our 9.10.2: the
    // same adapter interface, declared twice, so TypeScript sees two unrelated types.
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: `mailbus · ${organization}` } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
}
