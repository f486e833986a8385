import type { SmtpReply } from '@mailbus/smtp';
import type { DeliveryHost } from './resolve-mx.js';
import type { EtrnOutcome } from './etrn-request.js';
import type { TurnOutcome } from './turn-request.js';

// What OutboundDelivery is asked and what it answers.

export interface OutboundSecurity {
  tls: 'none' | 'opportunistic' | 'required';
  verifyCertificates: boolean;
  /** `basic`: AUTH PLAIN or LOGIN as offered; `ntlm`: AUTH NTLM (NTLMv2, ntlm-auth.ts). */
  auth?: { method?: 'basic' | 'ntlm'; user: string; pass: string };
  /** A PEM client certificate and key presented in TLS (a site authenticating to another). */
  clientCertificate?: { cert: string; key: string };
}

export interface OutboundRecipient {
  address: string;
  /** RFC 3461 NOTIFY, passed on to a next hop that offers DSN. */
  notify?: readonly string[];
  /** RFC 3461 ORCPT, `addr-type;address` xtext-decoded, passed on to a next hop that offers DSN. */
  orcpt?: string;
}

/** One line of an outbound SMTP session, for the protocol log. */
export interface ProtocolLine {
  direction: 'command' | 'response';
  line: string;
  host: DeliveryHost;
  at: number;
}

export interface OutboundRequest {
  /** Pool key prefix: connections are reused per (connector, host, port). */
  connector: string;
  hosts: readonly DeliveryHost[];
  /** Our name in EHLO/HELO. */
  heloName: string;
  heloInsteadOfEhlo: boolean;
  sender: string;
  recipients: readonly OutboundRecipient[];
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  /**
   * The body is 8-bit (BODY=8BITMIME, or 8-bit octets): passed on to a next hop that offers
   * 8BITMIME (RFC 6152), else the body is made 7-bit or refused 5.6.3 (`nextHopBody`).
   */
  body8bit?: boolean;
  /** Received with SMTPUTF8: passed on to a next hop that offers it, else refused 5.6.7 when needed. */
  smtpUtf8?: boolean;
  body: Buffer;
  security: OutboundSecurity;
  onProtocol?: (l: ProtocolLine) => void;
  /** "Request ETRN when sending": after the transaction, `ETRN <domain>` for each (RFC 1985). */
  etrnDomains?: readonly string[];
  /** What each ETRN got; never changes the delivery's result. */
  onEtrn?: (outcomes: EtrnOutcome[], host: DeliveryHost) => void;
  /**
   * "Issue TURN": after the transaction, TURN (or ATRN for these domains where
   * offered, RFC 2645); on 250 `onTurn` gets the socket to receive on.
   */
  turnDomains?: readonly string[];
  onTurn?: (outcome: TurnOutcome, host: DeliveryHost) => void;
}

export type RecipientStatus = 'delivered' | 'transient' | 'permanent';

export interface RecipientResult {
  recipient: string;
  status: RecipientStatus;
  reply: SmtpReply;
  /** The host that gave the reply. */
  host?: string;
  /** Delivered to a host that offered DSN (false: it cannot send NOTIFY=SUCCESS reports; RFC 3461 §4.3 relayed). */
  nextHopDsn?: boolean;
}

export interface OutboundResult {
  results: RecipientResult[];
  /** The host the transaction ran on, if any did. */
  host?: DeliveryHost;
  /** No host could be talked to (connection-level failure on every one). */
  connectionFailure: boolean;
  /**
   * Where the time went, in milliseconds (Postfix's `delays=` parts): `connectMs` finding and
   * opening a connection (every host tried, DNS excluded: it is resolved before), greeting,
   * EHLO, TLS and AUTH, 0 for a pooled connection; `transmitMs` the transaction itself.
   */
  timing: { connectMs: number; transmitMs: number };
}

export interface DeliveryTimeouts {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
}
