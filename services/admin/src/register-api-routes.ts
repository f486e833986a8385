import { isoTimes } from './iso-times.js';
import { MESSAGE_STATES, type MessageState, type QueueOperations } from '@mailbus/queue';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AdminError } from './admin-error.js';

interface NameParams {
  name: string;
}
interface JobParams extends NameParams {
  jobId: string;
}
interface MoveBody {
  to?: unknown;
}

function intParam(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value))
    throw new AdminError(
      'MAILBUS_ERR_ADMIN_BAD_REQUEST',
      `${name} must be a non-negative integer, not "${value}"`,
    );
  return Number(value);
}

function stateParam(value: string | undefined): MessageState | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(MESSAGE_STATES as readonly string[]).includes(value)) {
    throw new AdminError(
      'MAILBUS_ERR_ADMIN_BAD_REQUEST',
      `state must be one of ${MESSAGE_STATES.join(', ')}, not "${value}"`,
    );
  }
  return value as MessageState;
}

function boolParam(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new AdminError(
    'MAILBUS_ERR_ADMIN_BAD_REQUEST',
    `${name} must be true or false, not "${value}"`,
  );
}

function targetOf(body: MoveBody | undefined): string {
  const to = body?.to;
  if (typeof to !== 'string' || to.trim() === '') {
    throw new AdminError(
      'MAILBUS_ERR_ADMIN_BAD_REQUEST',
      'the body must be JSON {"to": "<connector>"}',
    );
  }
  return to.trim();
}

/**
 * The REST API under /api: the same operations as `mailbus queue` and
 * `mailbus connector`, each a call to QueueOperations. Every action that
 * changes a queue is written to the audit log with who asked.
 */
export function registerApiRoutes(
  app: FastifyInstance,
  ops: QueueOperations,
  logger: Logger,
): void {
  // Times in ISO 8601, the epoch milliseconds beside them (`receivedAt` and `receivedAtMs`).
  app.addHook('preSerialization', async (req, _reply, payload) =>
    req.url.startsWith('/api/') ? isoTimes(payload) : payload,
  );
  const audit = (req: FastifyRequest, action: string, fields: Record<string, unknown>): void => {
    logger.info({ category: 'queue', action, user: req.adminUser, ...fields }, `admin ${action}`);
  };

  // With routing groups as sites: every connector of the organisation, grouped by routing group.
  app.get('/api/connectors', async () => {
    const now = Date.now();
    return (await ops.organization(now)) ?? { connectors: await ops.connectors(now) };
  });

  app.get<{ Params: NameParams }>('/api/connectors/:name', async (req) =>
    ops.connector(req.params.name, Date.now()),
  );

  app.post<{ Params: NameParams }>('/api/connectors/:name/freeze', async (req) => {
    const connector = ops.resolve(req.params.name);
    await ops.freeze(connector);
    audit(req, 'freeze', { connector });
    return { connector, frozen: true };
  });

  app.post<{ Params: NameParams }>('/api/connectors/:name/unfreeze', async (req) => {
    const connector = ops.resolve(req.params.name);
    await ops.unfreeze(connector);
    audit(req, 'unfreeze', { connector });
    return { connector, frozen: false };
  });

  app.post<{ Params: NameParams }>('/api/connectors/:name/retry', async (req) => {
    const connector = ops.resolve(req.params.name);
    const { promoted, retried } = await ops.retryNow(connector);
    audit(req, 'retry', { connector, promoted, retried });
    return { connector, promoted, retried };
  });

  app.get<{ Params: NameParams; Querystring: { state?: string; limit?: string; offset?: string } }>(
    '/api/connectors/:name/messages',
    async (req) => {
      const connector = ops.resolve(req.params.name);
      const state = stateParam(req.query.state);
      const limit = intParam(req.query.limit, 'limit', 100);
      const offset = intParam(req.query.offset, 'offset', 0);
      const messages = await ops.listMessages(connector, {
        ...(state ? { state } : {}),
        limit,
        offset,
      });
      return { connector, state: state ?? null, limit, offset, messages };
    },
  );

  app.delete<{ Params: JobParams; Querystring: { dsn?: string } }>(
    '/api/connectors/:name/messages/:jobId',
    async (req) => {
      const connector = ops.resolve(req.params.name);
      const dsn = boolParam(req.query.dsn, 'dsn');
      const result = await ops.deleteMessage(connector, req.params.jobId, { dsn });
      audit(req, 'delete', { connector, jobId: req.params.jobId, message_id: result.queueId, dsn });
      return { connector, ...result };
    },
  );

  app.post<{ Params: JobParams; Body: MoveBody }>(
    '/api/connectors/:name/messages/:jobId/move',
    async (req) => {
      const to = targetOf(req.body);
      const result = await ops.moveMessage(req.params.name, req.params.jobId, to);
      audit(req, 'move', {
        connector: result.from,
        to: result.to,
        jobId: result.oldJobId,
        message_id: result.queueId,
      });
      return result;
    },
  );

  app.post<{ Params: NameParams; Body: MoveBody }>('/api/connectors/:name/move', async (req) => {
    const from = ops.resolve(req.params.name);
    const to = ops.resolve(targetOf(req.body));
    const result = await ops.moveQueue(from, to);
    audit(req, 'move-queue', { connector: from, to, ...result });
    return { from, to, ...result };
  });

  app.get<{ Params: { id: string } }>('/api/messages/:id', async (req) => ({
    term: req.params.id,
    messages: await ops.message(req.params.id),
  }));
}
