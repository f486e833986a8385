import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { QueueOperations } from '@mailbus/queue';
import type { FastifyInstance } from 'fastify';
import { offlinePage } from './offline-page.js';

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/** Where Bull Board is served. */
export const BOARD_PATH = '/queues';

/**
 * Bull Board builds its sidebar from the queue name split by the adapter's
 * delimiter, dropping Redis hash-tag braces only when a delimiter is set. A
 * character no queue name holds gives one flat list of brace-less names.
 */
const NO_SPLIT = '\u0000';

/** `Internet` for `{Internet}`, `Internet#2` for partition `{Internet#2}`: the sidebar's own label. */
export function displayName(queueName: string): string {
  const m = /^\{(.+)\}$/.exec(queueName);
  return m?.[1] ?? queueName;
}

function describeQueue(queueName: string): string {
  const label = displayName(queueName);
  return label === '@local'
    ? 'Mail for the inbound domains, delivered to their mailbox hosts'
    : `Delivery queue of connector ${label.replace(/#\d+$/, '')}`;
}

/**
 * Bull Board at /queues over every partition queue of every connector and
 * `@local`, read-only: its own buttons would change BullMQ jobs behind
 * mailbus's back (no tracking event, no audit line, a stored body left
 * behind), so queue actions go through the REST API and `mailbus queue`.
 * It shares the admin's authentication (the hook runs before it), and its
 * page loads nothing from outside this server (see offlinePage).
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
          description: describeQueue(q.name),
          delimiter: NO_SPLIT,
          readOnlyMode: true,
          allowRetries: false,
        }),
    ),
    // @bull-board/fastify 9.10.1 pins its own @bull-board/api 9.10.1 next to our 9.10.2: the
    // same adapter interface, declared twice, so TypeScript sees two unrelated types.
    serverAdapter: serverAdapter as unknown as BoardServerAdapter,
    options: { uiConfig: { boardTitle: `mailbus · ${organization}` } },
  });
  await app.register(
    async (board) => {
      board.addHook('onSend', async (_req, reply, payload) =>
        typeof payload === 'string' && /^text\/html/.test(String(reply.getHeader('content-type')))
          ? offlinePage(payload)
          : payload,
      );
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: BOARD_PATH },
  );
}
