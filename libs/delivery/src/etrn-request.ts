import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/** One `ETRN <domain>` (RFC 1985) and what the server answered. */
export interface EtrnOutcome {
  domain: string;
  /** The reply code; 0 when none came (timeout, connection lost). */
  code: number;
  /** The reply as received, or what went wrong. */
  reply: string;
  ok: boolean;
}

/**
 * RFC 1985 section 5: 250 (queuing started), 251 (no messages waiting),
 * 252 (pending messages started) and 253 (n pending messages started) are
 * success; anything else (458, 459, 500, 501, none) is a failure.
 */
export function etrnSucceeded(code: number): boolean {
  return code >= 250 && code <= 253;
}

interface CommandInternals {
  _responseActions: Array<(str: string) => void>;
  _sendCommand(cmd: string): void;
  _destroyed?: boolean;
}

/** Sends one command on an idle session and resolves with the whole reply ('' on timeout or loss). */
export function sendCommand(
  conn: SMTPConnection,
  line: string,
  timeoutMs: number,
): Promise<string> {
  const c = conn as unknown as CommandInternals;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (text: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.removeListener('end', onEnd);
      conn.removeListener('error', onEnd);
      resolve(text);
    };
    const onEnd = () => finish('');
    const timer = setTimeout(() => finish(''), timeoutMs);
    conn.once('end', onEnd);
    conn.once('error', onEnd);
    c._responseActions.push((str) => finish(str));
    c._sendCommand(line);
  });
}

/**
 * Issues `ETRN <domain>` for each domain on a session between transactions
 * (RFC 1985 allows it wherever MAIL may be sent). The commands and replies go
 * to the protocol log through the connection's own logger. Returns each
 * outcome and whether the session is still usable; a failure here never
 * changes the delivery that came before it.
 */
export async function requestEtrn(
  conn: SMTPConnection,
  domains: readonly string[],
  timeoutMs: number,
): Promise<{ outcomes: EtrnOutcome[]; usable: boolean }> {
  const outcomes: EtrnOutcome[] = [];
  for (const domain of domains) {
    if ((conn as unknown as CommandInternals)._destroyed) {
      outcomes.push({ domain, code: 0, reply: 'connection closed', ok: false });
      continue;
    }
    const text = await sendCommand(conn, `ETRN ${domain}`, timeoutMs);
    const code = /^\d{3}/.test(text) ? Number(text.slice(0, 3)) : 0;
    outcomes.push({
      domain,
      code,
      reply: text === '' ? `no reply within ${timeoutMs} ms` : text.replace(/\r?\n/g, ' '),
      ok: etrnSucceeded(code),
    });
    if (code === 0 || code === 421) {
      // The session is gone or its state unknown: the rest cannot be asked on it.
      for (const rest of domains.slice(outcomes.length)) {
        outcomes.push({ domain: rest, code: 0, reply: 'connection lost', ok: false });
      }
      return { outcomes, usable: false };
    }
  }
  return { outcomes, usable: !(conn as unknown as CommandInternals)._destroyed };
}
