import type { Socket } from 'node:net';
import type { SMTPServerSession } from 'smtp-server';
import type { Config, VirtualServer } from '@mailbus/config';
import { writeOutboundLine, type ProtocolLogWriter } from '@mailbus/protocol-log';
import type { RecipientResult, ReversedDelivery } from '@mailbus/delivery';
import { jobId, type HeldJob, type JobRecipient, type MailQueue } from '@mailbus/queue';
import { formatReply, reply, type SmtpReply } from '@mailbus/smtp';
import type { Metrics } from '@mailbus/telemetry';
import type { Logger } from 'pino';
import type { IngressDsnRequest } from './receive-message.js';

/** What mailbus answers to ATRN or TURN: the reply, and on 250 the collection to run on the socket. */
export interface TurnaroundAnswer {
  reply: SmtpReply;
  /** Runs once the 250 is sent and the socket is no longer served: mailbus is the client now. */
  collect?: (socket: Socket) => Promise<void>;
}

export type TurnaroundHandler = (
  verb: 'ATRN' | 'TURN',
  arg: string,
  session: SMTPServerSession,
) => Promise<TurnaroundAnswer>;

// RFC 2645 section 4 replies (TURN, RFC 821, gets the same).
export const atrnReplies = {
  turnaround: (n: number) =>
    reply(250, '2.0.0', `OK, turnaround now: ${n} held message${n === 1 ? '' : 's'} follow`),
  authRequired: () => reply(530, '5.7.0', 'Authentication required'),
  tlsRequired: () => reply(530, '5.7.0', 'Must issue a STARTTLS command first'),
  refused: (user: string, domain: string) =>
    reply(450, '4.7.1', `ATRN request refused: ${user} may not collect mail for ${domain}`),
  noMail: () => reply(453, '4.3.0', 'You have no mail'),
  busy: (domain: string) =>
    reply(453, '4.3.0', `You have no mail now: another session is collecting ${domain}`),
  syntax: () => reply(501, '5.5.4', 'Syntax: ATRN <domain>[,<domain>...]'),
  turnSyntax: () => reply(501, '5.5.4', 'Syntax: TURN (no parameters)'),
  unavailable: () => reply(502, '5.5.1', 'Command not implemented'),
  failed: () => reply(451, '4.3.0', 'Unable to process ATRN request now'),
};

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
/** How long a collector may hold its domains (renewed by nothing: a session longer than this loses exclusivity). */
const LEASE_MS = 30 * 60_000;

export interface TurnaroundDeps {
  config: Config;
  virtualServer: VirtualServer;
  queue: MailQueue;
  logger: Logger;
  metrics?: Metrics;
  delivery: ReversedDelivery;
  /** The virtual server's protocol log: the reversed session's lines go there as outbound lines. */
  protocolLog?: ProtocolLogWriter;
  sendDsn?: (req: IngressDsnRequest) => Promise<void>;
  now?: () => number;
}

/**
 * Authenticated on-demand relay (RFC 2645) for the mail a remote-triggered
 * connector holds: a trigger account, authenticated over TLS, asks with
 * `ATRN <domain>[,<domain>…]` (or `TURN`: every domain it may collect);
 * mailbus answers 250, the roles reverse on the connection, and mailbus
 * delivers the held mail for those domains to the peer. Per recipient: a 250
 * leaves the queue, a 5xx gets a DSN, anything else stays held.
 */
export function createTurnaroundHandler(deps: TurnaroundDeps): TurnaroundHandler {
  const { queue, logger } = deps;
  const held = queue.held;
  const now = deps.now ?? Date.now;
  return async (verb, arg, session) => {
    const user = typeof session.user === 'string' ? session.user : '';
    if (!user) return { reply: atrnReplies.authRequired() };
    if (!session.secure && !deps.virtualServer.auth?.allowPlaintext)
      return { reply: atrnReplies.tlsRequired() };
    // The connectors and domains asked for, each domain matched exactly (RFC 2645 names domains).
    let wanted: Array<{ connector: string; inDomain: (d: string) => boolean }>;
    let domains: string[];
    if (verb === 'TURN') {
      if (arg !== '') return { reply: atrnReplies.turnSyntax() };
      const all = held.collectable(user);
      if (all.length === 0) return { reply: atrnReplies.refused(user, 'any domain') };
      domains = [...new Set(all.flatMap((c) => c.domains))];
      wanted = all.map((c) => ({
        connector: c.connector,
        inDomain: (d) => held.connectorsFor(user, d).includes(c.connector),
      }));
    } else {
      domains = [
        ...new Set(
          arg
            .toLowerCase()
            .split(',')
            .map((d) => d.trim().replace(/\.$/, '')),
        ),
      ];
      if (arg === '' || domains.some((d) => !DOMAIN.test(d)))
        return { reply: atrnReplies.syntax() };
      const byConnector = new Map<string, Set<string>>();
      for (const d of domains) {
        const cs = held.connectorsFor(user, d);
        if (cs.length === 0) return { reply: atrnReplies.refused(user, d) };
        for (const c of cs) byConnector.set(c, (byConnector.get(c) ?? new Set()).add(d));
      }
      wanted = [...byConnector].map(([connector, ds]) => ({
        connector,
        inDomain: (d) => ds.has(d),
      }));
    }
    const owner = `${session.id}:${Math.random().toString(36).slice(2)}`;
    const busy = await held.lock(domains, owner, LEASE_MS);
    const log = logger.child({ session: session.id, account: user, command: verb });
    if (busy !== undefined) {
      log.info({ domains, busy }, `${verb} refused: ${busy} is being collected by another session`);
      void track(queue, session.id, `${verb} ${domains.join(',')} by ${user}: busy (${busy})`);
      return { reply: atrnReplies.busy(busy) };
    }
    let jobs: HeldJob[];
    try {
      jobs = (await Promise.all(wanted.map((w) => held.jobs(w.connector, w.inDomain)))).flat();
    } catch (e) {
      await held.unlock(domains, owner).catch(() => undefined);
      throw e;
    }
    if (jobs.length === 0) {
      await held.unlock(domains, owner);
      log.info({ domains }, `${verb}: no held mail`);
      void track(queue, session.id, `${verb} ${domains.join(',')} by ${user}: no mail`);
      return { reply: atrnReplies.noMail() };
    }
    log.info({ domains, messages: jobs.length }, `${verb} accepted: roles reversed`);
    void track(
      queue,
      session.id,
      `${verb} ${domains.join(',')} by ${user} from ${session.remoteAddress}: roles reversed, ${jobs.length} held`,
    );
    return {
      reply: atrnReplies.turnaround(jobs.length),
      collect: (socket) =>
        collect(deps, socket, session, user, jobs, log, now).finally(() =>
          held.unlock(domains, owner).catch(() => undefined),
        ),
    };
  };
}

/** One event under the SMTP session's id: `mailbus track <session id>` lists the requests. */
function track(queue: MailQueue, sessionId: string, detail: string): Promise<void> {
  return queue.tracking.record(sessionId, { type: 'atrn', detail });
}

/** The reversed session: each held job to the peer, its outcome recorded, the job settled. */
async function collect(
  deps: TurnaroundDeps,
  socket: Socket,
  session: SMTPServerSession,
  user: string,
  jobs: HeldJob[],
  log: Logger,
  now: () => number,
): Promise<void> {
  const { queue, metrics } = deps;
  const peer = {
    name: session.hostNameAppearsAs || session.remoteAddress,
    address: session.remoteAddress,
    port: session.remotePort,
  };
  const counts = { delivered: 0, failed: 0, held: 0 };
  let reversed;
  try {
    const plog = deps.protocolLog;
    reversed = await deps.delivery.reverse(
      socket,
      peer,
      deps.virtualServer.fqdn,
      plog ? (l) => writeOutboundLine(plog, l) : undefined,
    );
  } catch (e) {
    log.warn({ err: e }, 'reversed session failed before the first message: the mail stays held');
    socket.destroy();
    return;
  }
  for (const h of jobs) {
    if (!reversed.open) break;
    const data = h.job.data;
    const body = await queue.store.body(data.messageId);
    if (!body) continue;
    const results = await reversed.send({
      sender: data.sender,
      recipients: h.recipients,
      body,
      ...(data.envId ? { envId: data.envId } : {}),
      ...(data.ret ? { ret: data.ret } : {}),
      ...(data.body8bit ? { body8bit: true } : {}),
    });
    const of = (s: RecipientResult['status']) => results.filter((r) => r.status === s);
    const delivered = of('delivered');
    const permanent = of('permanent');
    const transient = of('transient');
    const done = new Set([...delivered, ...permanent].map((r) => r.recipient));
    await queue.store.markDelivered(
      data.messageId,
      delivered.map((r) => r.recipient),
      now(),
    );
    const event = (type: 'delivered' | 'failed' | 'deferred', rs: RecipientResult[]) =>
      rs.length > 0 &&
      void queue.tracking.record(data.messageId, {
        type,
        connector: h.connector,
        recipients: rs.map((r) => r.recipient),
        host: peer.name,
        reply: formatReply(rs[0]?.reply ?? reply(250, '', 'OK')),
        detail: `collected by ${user} (${session.id})${type === 'deferred' ? ': stays held' : ''}`,
      });
    event('delivered', delivered);
    event('failed', permanent);
    event('deferred', transient);
    if (delivered.length > 0)
      metrics?.messagesDelivered.inc({ connector: h.connector }, delivered.length);
    if (permanent.length > 0) {
      metrics?.messagesBounced.inc({ connector: h.connector }, permanent.length);
      const byAddr = new Map(h.recipients.map((r) => [r.address, r]));
      await deps.sendDsn?.({
        job: data,
        now: now(),
        dsnId: `${jobId(data.messageId, data.branch, data.hop)}A${session.id}`,
        original: body,
        recipients: permanent.map((r) => ({
          recipient: byAddr.get(r.recipient) ?? ({ address: r.recipient } as JobRecipient),
          action: 'failed',
          status: r.reply.enhanced || '5.0.0',
          reply: r.reply,
        })),
      });
    }
    log.info(
      {
        message_id: data.messageId,
        connector: h.connector,
        delivered: delivered.length,
        failed: permanent.length,
        held: transient.length,
        reply: formatReply(
          (transient[0] ?? permanent[0] ?? delivered[0])?.reply ?? reply(250, '', 'OK'),
        ),
      },
      'collected message',
    );
    counts.delivered += delivered.length;
    counts.failed += permanent.length;
    counts.held += transient.length;
    await queue.held
      .settle(
        h.job,
        data.recipients.filter((r) => !done.has(r.address)),
      )
      .catch((e: unknown) =>
        log.warn({ err: e, message_id: data.messageId }, 'held job not settled'),
      );
  }
  await reversed.quit();
  log.info(counts, 'reversed session ended');
  void track(
    queue,
    session.id,
    `collection by ${user} ended: ${counts.delivered} delivered, ${counts.failed} failed, ${counts.held} still held`,
  );
}
