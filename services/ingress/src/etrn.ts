import type { SMTPServerSession } from 'smtp-server';
import type { Config, VirtualServer } from '@mailbus/config';
import type { MailQueue } from '@mailbus/queue';
import { addressSpaceSpecificity, buildIpList, ipInList } from '@mailbus/routing';
import { reply, type SmtpReply } from '@mailbus/smtp';

/** Answers one ETRN: which reply the client gets (RFC 1985). */
export type EtrnHandler = (domain: string, session: SMTPServerSession) => Promise<SmtpReply>;

// RFC 1985 section 5 replies.
const etrnReplies = {
  started: (node: string, n: number) =>
    reply(250, '2.0.0', `Queuing for node ${node} started (${n} message${n === 1 ? '' : 's'})`),
  nothingWaiting: (node: string) => reply(251, '2.0.0', `OK, no messages waiting for node ${node}`),
  notAllowedClient: (node: string) =>
    reply(458, '4.7.1', `Unable to queue messages for node ${node}: this client may not use ETRN`),
  unknownNode: (node: string) =>
    reply(459, '4.1.2', `Node ${node} not allowed: no remote-triggered connector serves it`),
  syntax: () => reply(501, '5.5.4', 'Syntax: ETRN <domain> | ETRN @<domain>'),
  namedQueue: (node: string) =>
    reply(
      458,
      '4.3.3',
      `Unable to queue messages for node ${node}: named queues are not supported`,
    ),
  unavailable: () => reply(502, '5.5.1', 'ETRN not available'),
  failed: (node: string) =>
    reply(458, '4.3.0', `Unable to queue messages for node ${node}: temporary failure`),
};

/** The reply to one ETRN command line (RFC 1985), through the virtual server's handler. */
export async function answerEtrn(
  command: string,
  session: SMTPServerSession,
  onEtrn: EtrnHandler | undefined,
): Promise<SmtpReply> {
  const arg = command.trim().split(/\s+/)[1] ?? '';
  if (!onEtrn) return etrnReplies.unavailable();
  if (!/^[@#]?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(arg)) return etrnReplies.syntax();
  if (arg.startsWith('#')) return etrnReplies.namedQueue(arg);
  return onEtrn(arg, session).catch(() => etrnReplies.failed(arg));
}

export interface EtrnDeps {
  config: Config;
  virtualServer: VirtualServer;
  queue: MailQueue;
}

/**
 * What ETRN does on a virtual server: a client in `relay.etrn` asks for a
 * domain; the held jobs of every remote-triggered connector whose address
 * space covers the domain are released (`@domain` also releases subdomains).
 * `458` for a client not allowed, `459` for a domain no such connector serves.
 */
export function createEtrnHandler(deps: EtrnDeps): EtrnHandler {
  const allowed = etrnAllowed(deps.virtualServer);
  return async (arg, session) => {
    const subdomains = arg.startsWith('@');
    const domain = (subdomains ? arg.slice(1) : arg).toLowerCase();
    if (!allowed(session.remoteAddress ?? '')) return etrnReplies.notAllowedClient(domain);
    const connectors = deps.config.connectors.filter(
      (c) =>
        c.delivery.remoteTriggered &&
        c.addressSpaces.some((a) => addressSpaceSpecificity(a.domain, domain) !== undefined),
    );
    if (connectors.length === 0) return etrnReplies.unknownNode(domain);
    let released = 0;
    for (const c of connectors)
      released += await deps.queue.releaseHeld(c.name, domain, subdomains);
    return released > 0
      ? etrnReplies.started(domain, released)
      : etrnReplies.nothingWaiting(domain);
  };
}

/** Whether a client IP may use ETRN on a virtual server (`relay.etrn`); EHLO lists ETRN only then. */
export function etrnAllowed(vs: VirtualServer): (ip: string) => boolean {
  const allowed = buildIpList(vs.relay.etrn);
  return (ip) => ipInList(allowed, ip.replace(/^::ffff:/, ''));
}
