import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Config, VirtualServer } from '@mailbus/config';
import type { MailQueue } from '@mailbus/queue';
import { addressSpaceSpecificity, buildIpList, ipInList } from '@mailbus/routing';
import { reply, type SmtpReply } from '@mailbus/smtp';

/** Answers one ETRN: which reply the client gets (RFC 1985). */
export type EtrnHandler = (domain: string, session: SMTPServerSession) => Promise<SmtpReply>;

interface Connection {
  session: SMTPServerSession;
  _server: {
    options: { onEtrn?: EtrnHandler };
    logger: { warn: (meta: object, ...msg: unknown[]) => void };
  };
  send(code: number, data?: string | string[], context?: string | false): void;
}

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

const wire = (r: SmtpReply) => (r.enhanced ? `${r.enhanced} ${r.text}` : r.text);

function handlerEtrn(this: Connection, command: Buffer | string, callback: () => void): void {
  const arg = command.toString().trim().split(/\s+/)[1] ?? '';
  const answer = (r: SmtpReply) => {
    this.send(r.code, wire(r), false);
    callback();
  };
  const onEtrn = this._server.options.onEtrn;
  if (!onEtrn) return answer(etrnReplies.unavailable());
  if (!/^[@#]?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(arg))
    return answer(etrnReplies.syntax());
  if (arg.startsWith('#')) return answer(etrnReplies.namedQueue(arg));
  onEtrn(arg, this.session).then(answer, () => answer(etrnReplies.failed(arg)));
}

let installed = false;

/**
 * Adds ETRN (RFC 1985) to an SMTPServer: smtp-server runs `handler_<VERB>` of
 * its connection class for any command, so one handler on the prototype
 * (installed once) serves every server; each server answers through the
 * `onEtrn` set on its own options.
 */
export function installEtrn(server: SMTPServer, onEtrn: EtrnHandler): void {
  (server as unknown as { options: { onEtrn?: EtrnHandler } }).options.onEtrn = onEtrn;
  if (installed) return;
  installed = true;
  (SMTPConnection.prototype as unknown as { handler_ETRN: typeof handlerEtrn }).handler_ETRN =
    handlerEtrn;
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
  const allowed = buildIpList(deps.virtualServer.relay.etrn);
  return async (arg, session) => {
    const subdomains = arg.startsWith('@');
    const domain = (subdomains ? arg.slice(1) : arg).toLowerCase();
    const ip = (session.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!ipInList(allowed, ip)) return etrnReplies.notAllowedClient(domain);
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
