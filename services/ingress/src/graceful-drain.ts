import type { SMTPServer } from 'smtp-server';
import type { SmtpReply } from '@mailbus/smtp';

/** What the drain needs of smtp-server's connection objects (not in its types). */
interface OpenConnection {
  send(code: number, data: string): void;
  close(): void;
}

export interface DrainOptions {
  /** How long open sessions may go on finishing their transaction. */
  graceMs: number;
  /** The reply sent to sessions still open when the grace period ends (421 4.3.2). */
  shuttingDown: SmtpReply;
  /** How often to look whether every session has ended (default 50 ms). */
  pollMs?: number;
}

/**
 * Graceful drain on SIGTERM. smtp-server's own close() answers the next
 * command of every open session with `421 Server shutting down`, so a client
 * between RCPT and DATA loses its transaction. Instead: stop listening, let
 * each open session finish what it is doing (the caller refuses the next
 * MAIL with 421 4.3.2 while draining), and when the grace period ends send
 * `421 4.3.2` to the sessions still open and close them. Resolves when every
 * session has ended.
 */
export async function drainSmtpServer(server: SMTPServer, o: DrainOptions): Promise<void> {
  const internals = server as unknown as { connections: Set<OpenConnection> };
  const listening = new Promise<void>((resolve) => server.server.close(() => resolve()));
  const deadline = Date.now() + o.graceMs;
  const poll = o.pollMs ?? 50;
  while (internals.connections.size > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, poll));
  const r = o.shuttingDown;
  const text = r.enhanced ? `${r.enhanced} ${r.text}` : r.text;
  for (const c of [...internals.connections]) {
    c.send(r.code, text);
    c.close();
  }
  // smtp-server's close() now only tidies up (sockets still in a TLS or PROXY handshake).
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await listening;
}
