import { reply, type SmtpReply } from './smtp-reply.js';

/**
 * Named reply factories: business code never writes a reply code by hand.
 * Codes per RFC 5321 / RFC 3463 (and RFC 1985 for ETRN, RFC 7505 for null MX).
 */
export const replies = {
  ok: (text = 'OK'): SmtpReply => reply(250, '2.0.0', text),
  queued: (queueId: string): SmtpReply => reply(250, '2.0.0', `OK queued as ${queueId}`),
  senderOk: (): SmtpReply => reply(250, '2.1.0', 'Sender OK'),
  recipientOk: (): SmtpReply => reply(250, '2.1.5', 'Recipient OK'),
  etrnQueued: (domain: string): SmtpReply =>
    reply(250, '2.0.0', `Queuing for node ${domain} started`),
  unableToRelay: (): SmtpReply => reply(550, '5.7.1', 'Unable to relay'),
  /** RCPT to an inbound domain the mailbox host (or the valid recipients list) does not know. */
  unknownRecipient: (address: string, where: string): SmtpReply =>
    reply(550, '5.1.1', `<${address}>: Recipient address rejected: User unknown in ${where}`),
  /** The mailbox host could not be asked (down, 4xx, timeout): the client retries, never a 5xx. */
  recipientNotVerified: (address: string, why: string): SmtpReply =>
    reply(450, '4.1.1', `<${address}>: Recipient address rejected: unverified address: ${why}`),
  noRoute: (domain: string): SmtpReply =>
    reply(550, '5.4.4', `Unable to route: no connector for ${domain}`),
  noRouteToGroup: (group: string): SmtpReply =>
    reply(550, '5.4.4', `Unable to route: no connector path to routing group ${group}`),
  routingLoop: (group: string): SmtpReply =>
    reply(554, '5.4.6', `Routing loop: the message has already been in routing group ${group}`),
  senderNotAllowed: (connector: string): SmtpReply =>
    reply(550, '5.7.1', `Sender not allowed by delivery restrictions of connector ${connector}`),
  contentNotAllowed: (what: string): SmtpReply =>
    reply(550, '5.7.1', `Message ${what} not allowed on any connector`),
  messageTooBig: (limitKB: number): SmtpReply =>
    reply(552, '5.3.4', `Message size exceeds fixed maximum message size (${limitKB} KB)`),
  headerTooBig: (): SmtpReply => reply(552, '5.3.4', 'Header section exceeds the limit'),
  tooManyRecipients: (): SmtpReply => reply(452, '4.5.3', 'Too many recipients'),
  tooManyHops: (hops: number): SmtpReply =>
    reply(554, '5.4.6', `Too many hops (${hops}): mail loop detected`),
  tempFailure: (text = 'Temporary failure, please try again later'): SmtpReply =>
    reply(451, '4.3.0', text),
  insufficientStorage: (text = 'Insufficient system storage, try again later'): SmtpReply =>
    reply(452, '4.3.1', text),
  queueFull: (connector: string): SmtpReply =>
    reply(452, '4.3.1', `Queue of connector ${connector} is full, try again later`),
  shuttingDown: (fqdn: string): SmtpReply =>
    reply(421, '4.3.2', `${fqdn} Service shutting down, closing transmission channel`),
  tooManyConnections: (fqdn: string): SmtpReply =>
    reply(421, '4.7.0', `${fqdn} Too many connections, try again later`),
  timeout: (fqdn: string): SmtpReply => reply(421, '4.4.2', `${fqdn} Timeout, closing connection`),
  badSequence: (text = 'Bad sequence of commands'): SmtpReply => reply(503, '5.5.1', text),
  unknownCommand: (): SmtpReply => reply(500, '5.5.2', 'Command not recognized'),
  syntaxError: (text = 'Syntax error in parameters or arguments'): SmtpReply =>
    reply(501, '5.5.4', text),
  unknownParameter: (p: string): SmtpReply => reply(555, '5.5.4', `Unsupported parameter ${p}`),
  lineTooLong: (): SmtpReply => reply(500, '5.5.6', 'Line too long'),
  nulInMessage: (): SmtpReply => reply(554, '5.6.0', 'Message contains NUL characters'),
  bareLineEnding: (): SmtpReply =>
    reply(550, '5.5.2', 'Message contains bare CR or LF; refused to prevent SMTP smuggling'),
  addressNeedsSmtputf8: (): SmtpReply => reply(553, '5.6.7', 'Non-ASCII address requires SMTPUTF8'),
  /** An SMTPUTF8 message (UTF-8 addresses or header fields) for a next hop without SMTPUTF8 (RFC 6531 §3.2). */
  smtputf8NotOffered: (host: string): SmtpReply =>
    reply(
      554,
      '5.6.7',
      `SMTPUTF8 is required, but was not offered by host ${host}: the message has UTF-8 addresses or header fields`,
    ),
  /** An 8-bit message for a next hop without 8BITMIME that cannot be made 7-bit unchanged (RFC 6152 §3). */
  conversionNotPossible: (host: string, why: string): SmtpReply =>
    reply(
      554,
      '5.6.3',
      `Conversion to 7 bits required, but not possible: host ${host} does not offer 8BITMIME and the message has ${why}`,
    ),
  authFailed: (): SmtpReply => reply(535, '5.7.8', 'Authentication credentials invalid'),
  authThrottled: (): SmtpReply =>
    reply(454, '4.7.0', 'Too many failed authentication attempts, try later'),
  encryptionRequired: (): SmtpReply =>
    reply(538, '5.7.11', 'Encryption required for requested authentication mechanism'),
  etrnNotAllowed: (): SmtpReply => reply(458, '4.7.0', 'Unable to queue messages for node'),
  etrnNoSuchNode: (domain: string): SmtpReply => reply(459, '4.7.0', `Node ${domain} not allowed`),
} as const;
