import { createTransport } from 'nodemailer';

export interface SendOptions {
  port: number;
  host?: string;
  from: string;
  to: string[];
  raw: string | Buffer;
  /** Use STARTTLS if offered (tests use self-signed certificates). */
  tls?: boolean;
  auth?: { user: string; pass: string };
  /** The client's own address (another loopback address, e.g. 127.0.0.2: a client outside relay.allow). */
  localAddress?: string;
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  response: string;
}

/** Sends one message with nodemailer as a real SMTP client. Rejects with `responseCode` on failure. */
export async function sendMail(o: SendOptions): Promise<SendResult> {
  const transport = createTransport({
    host: o.host ?? '127.0.0.1',
    port: o.port,
    secure: false,
    ignoreTLS: !o.tls,
    tls: { rejectUnauthorized: false },
    ...(o.auth ? { auth: o.auth } : {}),
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    connectionTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: o.from, to: o.to }, raw: o.raw });
    return {
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
      response: info.response,
    };
  } finally {
    transport.close();
  }
}

/** A small RFC 5322 message with a unique Message-ID, CRLF line endings. */
export function makeMessage(o: {
  from: string;
  to: string;
  subject?: string;
  body?: string;
  messageId?: string;
  headers?: Record<string, string>;
}): string {
  const id =
    o.messageId ??
    `<${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@test.example>`;
  const extra = Object.entries(o.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (
    `From: ${o.from}\r\nTo: ${o.to}\r\nSubject: ${o.subject ?? 'test'}\r\nMessage-ID: ${id}\r\n` +
    `Date: ${new Date().toUTCString()}\r\n${extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
    `${(o.body ?? 'Hello from the mailbus tests.').replace(/\r?\n/g, '\r\n')}\r\n`
  );
}
