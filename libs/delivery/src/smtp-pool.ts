import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

interface Idle {
  conn: SMTPConnection;
  timer: NodeJS.Timeout;
  /** The last transaction ended with the server's 250 after DATA: no RSET needed. */
  clean: boolean;
}

/** A pooled connection and whether it needs RSET before the next MAIL FROM. */
export interface Pooled {
  conn: SMTPConnection;
  clean: boolean;
}

/**
 * Idle outbound connections per (connector, host, port), reused for the next
 * message to the same place (after RSET when the last transaction failed),
 * closed after `idleMs`.
 */
export class SmtpPool {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;

  constructor(
    private readonly maxIdlePerKey = 5,
    private readonly idleMs = 30_000,
  ) {}

  /** An idle connection for the key, if one is still alive. */
  take(key: string): Pooled | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const i = list.pop() as Idle;
      clearTimeout(i.timer);
      const internal = i.conn as unknown as { _destroyed?: boolean; _closing?: boolean };
      if (!internal._destroyed && !internal._closing) return { conn: i.conn, clean: i.clean };
    }
    return undefined;
  }

  /** Gives a healthy connection back after a transaction. */
  give(key: string, conn: SMTPConnection, clean = false): void {
    if (this.closed) return void conn.quit();
    const list = this.idle.get(key) ?? [];
    if (list.length >= this.maxIdlePerKey) return void conn.quit();
    const entry: Idle = {
      conn,
      clean,
      timer: setTimeout(() => {
        const l = this.idle.get(key);
        if (l)
          this.idle.set(
            key,
            l.filter((x) => x !== entry),
          );
        conn.quit();
      }, this.idleMs),
    };
    entry.timer.unref();
    // One 'end' listener per connection for its whole life (not one per return to the pool).
    const tagged = conn as SMTPConnection & { __mailbusPooled?: boolean };
    if (!tagged.__mailbusPooled) {
      tagged.__mailbusPooled = true;
      conn.on('error', () => undefined);
      conn.once('end', () => {
        for (const [k, l] of this.idle) {
          const left = l.filter((x) => x.conn !== conn || (clearTimeout(x.timer), false));
          if (left.length !== l.length) this.idle.set(k, left);
        }
      });
    }
    list.push(entry);
    this.idle.set(key, list);
  }

  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const i of list) {
        clearTimeout(i.timer);
        i.conn.quit();
      }
    }
    this.idle.clear();
  }
}
