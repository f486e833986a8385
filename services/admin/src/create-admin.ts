import type { Config } from '@mailbus/config';
import { QueueOperationError, type MailQueue, type QueueOperations } from '@mailbus/queue';
import type { Metrics } from '@mailbus/telemetry';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AdminAuth, SESSION_COOKIE } from './admin-auth.js';
import { loginPage, wantsHtml } from './login-page.js';
import { AdminError, type AdminErrorCode } from './admin-error.js';
import { AdminServer } from './admin-server.js';
import { httpStatusOf } from './http-status-of.js';
import { queueSamples } from './queue-samples.js';
import { registerApiRoutes } from './register-api-routes.js';
import { BOARD_PATH, registerBullBoard } from './register-bull-board.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the admin request authenticated as (`token` or the basic-auth user name). */
    adminUser: string;
  }
}

export interface AdminOptions {
  config: Config;
  queue: MailQueue;
  ops: QueueOperations;
  metrics: Metrics;
  logger: Logger;
  /** The Bearer token (the value of the env var named by `admin.tokenEnv`). */
  token?: string;
  /** HTTP Basic credentials (`admin.basicAuth`, password read from its env var). */
  basicAuth?: { username: string; password: string };
  /** Redis reachable and config loaded: the answer of /readyz. */
  isReady: () => Promise<boolean>;
  /** Longest wait for isReady and for the queue collector of /metrics (default 3000 ms). */
  probeTimeoutMs?: number;
}

/** Probes and scrapers: served without authentication. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error: { code, message } });
}

/**
 * Builds the admin service: /healthz, /readyz and /metrics for probes and
 * scrapers; Bull Board at /queues and the REST API under /api behind a
 * Bearer token or HTTP Basic. Refuses to build without either, so there is
 * never an open admin page. Also installs the queue collector on `metrics`
 * so /metrics reports queue depth and oldest age per connector.
 */
export async function createAdmin(options: AdminOptions): Promise<AdminServer> {
  const { config, ops, metrics, logger } = options;
  const token = options.token !== undefined && options.token !== '' ? options.token : undefined;
  const basicAuth =
    options.basicAuth && options.basicAuth.username !== '' && options.basicAuth.password !== ''
      ? options.basicAuth
      : undefined;
  if (!token && !basicAuth) {
    throw new AdminError(
      'MAILBUS_ERR_ADMIN_NO_AUTH',
      `the admin service has no authentication: set the environment variable named by admin.tokenEnv (${config.admin.tokenEnv ?? 'not set in the config'}) to a token, or configure admin.basicAuth; refusing to serve an open admin page`,
    );
  }
  const auth = new AdminAuth({ ...(token ? { token } : {}), ...(basicAuth ? { basicAuth } : {}) });
  const probeTimeout = options.probeTimeoutMs ?? 3000;

  metrics.setQueueCollector(async () =>
    queueSamples(await withTimeout(ops.connectors(Date.now()), probeTimeout, 'queue collector')),
  );

  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 64 * 1024 });
  app.decorateRequest('adminUser', '');

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    let ready = false;
    try {
      ready = await withTimeout(options.isReady(), probeTimeout, 'readiness check');
    } catch (err) {
      logger.warn({ err }, 'readiness check failed');
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.render()),
  );

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const url = new URL(req.url, 'http://admin.invalid');
    if (PUBLIC_PATHS.has(url.pathname)) return;
    const result = auth.check(req.headers.authorization, req.headers.cookie);
    if (result.ok) {
      req.adminUser = result.user;
      return;
    }
    const queryToken = url.searchParams.get('token') ?? undefined;
    if (auth.queryToken(queryToken) && auth.sessionValue) {
      const secure = req.protocol === 'https' ? '; Secure' : '';
      reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=${auth.sessionValue}; Path=/; HttpOnly; SameSite=Strict${secure}`,
      );
      req.adminUser = 'token';
      if (req.method === 'GET' && url.pathname.startsWith(BOARD_PATH)) {
        // Take the token out of the address bar and the browser history.
        url.searchParams.delete('token');
        return reply.redirect(`${url.pathname}${url.search}`, 303);
      }
      return;
    }
    if (auth.basicEnabled) reply.header('www-authenticate', 'Basic realm="mailbus"');
    else reply.header('www-authenticate', 'Bearer realm="mailbus"');
    if (wantsHtml(req.method, req.headers.accept)) {
      const page = {
        organization: config.organization,
        basic: auth.basicEnabled,
        token: auth.sessionValue !== undefined,
      };
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage(page));
    }
    return sendError(
      reply,
      401,
      'MAILBUS_ERR_ADMIN_UNAUTHORIZED',
      'authentication required: Authorization: Bearer <token> or HTTP Basic',
    );
  });

  // A stalled Redis must not hang an operator's request (the worker connection
  // waits forever): the API answers 503 before acting when Redis does not
  // answer a PING within the probe timeout.
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/') && !path.startsWith(`${BOARD_PATH}/api/`)) return;
    let ready = false;
    try {
      ready = await withTimeout(options.isReady(), probeTimeout, 'Redis');
    } catch {
      ready = false;
    }
    if (!ready)
      return sendError(
        reply,
        503,
        'MAILBUS_ERR_REDIS_UNREACHABLE',
        `Redis did not answer within ${probeTimeout / 1000} s; nothing was done, try again`,
      );
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      404,
      'MAILBUS_ERR_ADMIN_NOT_FOUND',
      `no route ${req.method} ${req.url.split('?')[0] ?? ''}`,
    ),
  );
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof QueueOperationError || err instanceof AdminError) {
      return sendError(reply, httpStatusOf(err.code), err.code, err.message);
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own input errors: malformed JSON, wrong content type, body too large.
      const code: AdminErrorCode =
        err.statusCode === 404 ? 'MAILBUS_ERR_ADMIN_NOT_FOUND' : 'MAILBUS_ERR_ADMIN_BAD_REQUEST';
      return sendError(reply, err.statusCode, code, err.message);
    }
    logger.error({ err, method: req.method, url: req.url.split('?')[0] }, 'admin request failed');
    return sendError(reply, 500, 'MAILBUS_ERR_ADMIN_INTERNAL', err.message);
  });

  registerApiRoutes(app, ops, logger);
  await registerBullBoard(app, ops, config.organization);
  await app.ready();
  return new AdminServer(app);
}
