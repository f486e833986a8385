import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Config, VirtualServer } from '@mailbus/config';
import { buildDsn, dsnAllowed, orcptAddress, returnedPart, shouldNotify } from '@mailbus/dsn';
import { LOCAL_DELIVERY, type MailQueue, type RecipientGroup } from '@mailbus/queue';
import { buildIpList, ipInList, routeRecipient, splitByConnector } from '@mailbus/routing';
import { injectContext } from '@mailbus/telemetry';
import type { DsnRequest } from './dsn-request.js';

/** A sender this organisation knows: authenticated, or its client may relay (relay.allow). */
function trustedSender(config: Config, job: DsnRequest['job']): boolean {
  if (job.client.user) return true;
  const vs = config.virtualServers.find((v) => v.name === job.virtualServer);
  return vs ? ipInList(buildIpList(vs.relay.allow), job.client.ip) : false;
}

/**
 * Sends RFC 3464 DSNs: one message per request listing every recipient in it,
 * from `<>`, to the original sender, routed like any system message. Never a
 * DSN to the null sender; RCPT NOTIFY is honoured; RET picks full message or
 * headers. The DSN's queue id derives from the request's id, so a job that
 * runs twice after a crash queues the same DSN once.
 */
export function createDsnSender(
  config: Config,
  reporter: VirtualServer,
): (req: DsnRequest, queue: MailQueue) => Promise<void> {
  return async (req, queue) => {
    const job = req.job;
    if (!dsnAllowed(job.sender)) return;
    const recipients = req.recipients.filter((r) =>
      shouldNotify(
        r.recipient.notify,
        r.action === 'delayed' ? 'delay' : r.action === 'relayed' ? 'success' : 'failure',
      ),
    );
    if (recipients.length === 0) return;
    const original = req.original ?? (await queue.store.body(job.messageId)) ?? Buffer.alloc(0);
    const id = `D${createHash('sha256').update(req.dsnId).digest('hex').slice(0, 17).toUpperCase()}`;
    const dsn = buildDsn({
      reportingMta: reporter.fqdn,
      organization: config.organization,
      arrivalDate: job.receivedAt,
      now: req.now,
      randomId: id,
      originalSender: job.sender,
      ...(job.envId ? { envelopeId: job.envId } : {}),
      // An SMTPUTF8 original gets an RFC 6533 DSN, itself sent with SMTPUTF8.
      ...(job.smtpUtf8 ? { international: true } : {}),
      ret: returnedPart({
        requested: job.ret,
        trustedSender: trustedSender(config, job),
        delay: recipients.every((r) => r.action === 'delayed'),
      }),
      originalMessage: original,
      recipients: recipients.map((r) => ({
        recipient: r.recipient.address,
        ...(r.recipient.orcpt ? { originalRecipient: orcptAddress(r.recipient.orcpt) } : {}),
        action: r.action,
        status: r.status,
        ...(r.remoteMta ? { remoteMta: r.remoteMta } : {}),
        ...(r.reply ? { diagnostic: r.reply } : {}),
        ...(r.explanation ? { explanation: r.explanation } : {}),
        lastAttempt: req.now,
        ...(r.willRetryUntil !== undefined ? { willRetryUntil: r.willRetryUntil } : {}),
      })),
    });
    const facts = {
      sender: '',
      priority: 'normal' as const,
      system: true,
      virtualServer: reporter.name,
      sizeKB: Math.ceil(dsn.raw.length / 1024),
    };
    const decision = routeRecipient(
      config,
      facts,
      job.sender,
      await queue.links.down(
        config.connectors.map((c) => c.name),
        req.now,
      ),
    );
    const split = splitByConnector([decision]);
    const groups: RecipientGroup[] = [
      ...split.connectors.map((g) => ({
        plan: g.routes[0]?.candidates.map((c) => c.name) ?? [g.connector],
        recipients: [{ address: job.sender, notify: ['NEVER' as const] }],
      })),
      ...split.local.map((l) => ({
        plan: [LOCAL_DELIVERY],
        recipients: [{ address: job.sender }],
        mailboxHosts: l.mailboxHosts,
      })),
    ];
    if (groups.length === 0) {
      await queue.tracking.record(job.messageId, {
        type: 'dsn',
        recipients: recipients.map((r) => r.recipient.address),
        detail: `DSN to ${job.sender} not routable: ${split.rejected[0]?.reply.text ?? ''}`,
      });
      return;
    }
    if (await queue.store.exists(id)) return;
    await queue.submit({
      id,
      body: dsn.raw,
      sender: '',
      receivedAt: req.now,
      priority: 'normal',
      system: true,
      virtualServer: reporter.name,
      groups,
      trace: injectContext(),
      client: { ip: '127.0.0.1', helo: reporter.fqdn, secure: false },
      headerMessageId: dsn.messageId.replace(/^<|>$/g, ''),
      // The returned message may be 8-bit: made 7-bit for a next hop without 8BITMIME.
      ...(isAscii(dsn.raw) ? {} : { body8bit: true }),
      ...(job.smtpUtf8 ? { smtpUtf8: true } : {}),
    });
    await queue.tracking.record(job.messageId, {
      type: 'dsn',
      recipients: recipients.map((r) => r.recipient.address),
      detail: `${recipients[0]?.action ?? 'failed'} DSN ${id} to ${job.sender} (${recipients.map((r) => r.status).join(', ')})`,
    });
    await queue.tracking.record(id, { type: 'received', detail: `DSN for ${job.messageId}` }, [
      job.sender,
    ]);
  };
}
