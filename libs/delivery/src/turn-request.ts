import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { sendCommand } from './etrn-request.js';

/** What TURN or ATRN got: on success, the connection to serve SMTP on. */
export interface TurnOutcome {
  /** The command as sent: `TURN`, or `ATRN <domain>,<domain>` (RFC 2645). */
  command: string;
  /** The reply code; 0 when none came. */
  code: number;
  reply: string;
  ok: boolean;
  /** On 250: the socket, taken from the client; the caller now greets as the server. */
  socket?: Socket | TLSSocket;
}

interface ClientInternals {
  _socket?: Socket | TLSSocket;
  _ehloLines?: string[];
  _destroyed?: boolean;
  _closing?: boolean;
  _responseActions: unknown[];
  _onSocketData: (chunk: Buffer) => void;
  _onSocketError: (err: Error) => void;
  _onSocketClose: () => void;
  _onSocketEnd: () => void;
  _onSocketTimeout: () => void;
}

/** Whether the server listed ATRN in its EHLO reply (RFC 2645 section 4). */
export function offersAtrn(conn: SMTPConnection): boolean {
  const lines = (conn as unknown as ClientInternals)._ehloLines ?? [];
  return lines.some((l) => /^ATRN\b/i.test(l));
}

/** The reversal command: ATRN with the domains where the server offers it, else TURN. */
export function turnCommand(atrn: boolean, domains: readonly string[]): string {
  if (!atrn) return 'TURN';
  return domains.length > 0 ? `ATRN ${domains.join(',')}` : 'ATRN';
}

/**
 * Takes the socket away from nodemailer's client: its listeners and timeout
 * removed and the client marked closed, so neither reads nor closes it again.
 */
function releaseSocket(conn: SMTPConnection): Socket | TLSSocket | undefined {
  const c = conn as unknown as ClientInternals;
  const s = c._socket;
  if (!s || s.destroyed || c._destroyed) return undefined;
  s.removeListener('data', c._onSocketData);
  s.removeListener('timeout', c._onSocketTimeout);
  s.removeListener('close', c._onSocketClose);
  s.removeListener('end', c._onSocketEnd);
  s.removeListener('error', c._onSocketError);
  s.setTimeout(0);
  c._responseActions = [];
  c._closing = true;
  c._destroyed = true;
  delete c._socket;
  return s;
}

/**
 * Asks the server to reverse roles on this session, after the transactions:
 * `ATRN <domains>` where its EHLO listed ATRN (RFC 2645), else `TURN`
 * (RFC 821). On 250 the socket is returned, released from the client: the
 * caller greets with 220 and receives the server's mail on it. Any other
 * reply leaves the session as it was (the caller QUITs).
 */
export async function requestTurn(
  conn: SMTPConnection,
  domains: readonly string[],
  timeoutMs: number,
): Promise<TurnOutcome> {
  const command = turnCommand(offersAtrn(conn), domains);
  if ((conn as unknown as ClientInternals)._destroyed) {
    return { command, code: 0, reply: 'connection closed', ok: false };
  }
  const text = await sendCommand(conn, command, timeoutMs);
  const code = /^\d{3}/.test(text) ? Number(text.slice(0, 3)) : 0;
  const reply = text === '' ? `no reply within ${timeoutMs} ms` : text.replace(/\r?\n/g, ' ');
  if (code !== 250) return { command, code, reply, ok: false };
  const socket = releaseSocket(conn);
  if (!socket) return { command, code, reply: `${reply} (connection lost)`, ok: false };
  return { command, code, reply, ok: true, socket };
}
