import { sleep } from './free-port.js';
import { SmtpDialog } from './smtp-dialog.js';

export interface SmtpTrafficOptions {
  /** The ingress port (127.0.0.1). */
  port: number;
  /** Concurrent SMTP sessions (default 4). */
  sessions?: number;
  /** Every session stops trying after this long from start (default 60 s). */
  deadlineMs?: number;
  /** Message-ID prefix, unique per run (default "t"). */
  tag?: string;
}

/** One reply other than 250 to a message (code 0: the session failed or was dropped). */
export interface Refusal {
  code: number;
  /** How long the refused attempt took. */
  ms: number;
  /** When it started, ms since the traffic started. */
  at: number;
  text?: string;
}

/**
 * Steady SMTP traffic for failover tests: `sessions` sessions each send one
 * message after another (a new Message-ID each), retrying a refused message
 * after 100 ms and more, until stopped or past the deadline. Records which
 * Message-IDs were answered 250 (and when) and every refusal. A reply other
 * than 250/451/452/421 stops the traffic with an error.
 */
export class SmtpTraffic {
  /** Message-ID → ms since start when it was answered 250. */
  readonly accepted = new Map<string, number>();
  readonly refusals: Refusal[] = [];
  readonly started = Date.now();
  private next = 0;
  private stopped = false;
  private readonly done: Promise<void>;
  private readonly deadline: number;

  constructor(private readonly o: SmtpTrafficOptions) {
    this.deadline = this.started + (o.deadlineMs ?? 60_000);
    this.done = Promise.all(
      Array.from({ length: o.sessions ?? 4 }, (_, n) => this.session(n)),
    ).then(() => undefined);
    // Rethrown by stop(); never an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
  }

  /** Ms since the traffic started. */
  now(): number {
    return Date.now() - this.started;
  }

  /** Whether the traffic should keep going. */
  private running(): boolean {
    return !this.stopped && Date.now() < this.deadline;
  }

  /** Resolves once `n` messages were accepted; false if the deadline passed first. */
  async waitForAccepted(n: number): Promise<boolean> {
    while (this.accepted.size < n) {
      if (!this.running()) return false;
      await sleep(20);
    }
    return true;
  }

  /** The first acceptance at or after `at` (ms since start), or undefined. */
  firstAcceptedSince(at: number): number | undefined {
    let first: number | undefined;
    for (const t of this.accepted.values())
      if (t >= at && (first === undefined || t < first)) first = t;
    return first;
  }

  /** Stops every session (after its message in flight) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async session(n: number): Promise<void> {
    let dialog: SmtpDialog | undefined;
    while (this.running()) {
      const i = this.next++;
      const tag = this.o.tag ?? 't';
      const id = `<${tag}-${i}-${n}@failover.test>`;
      const raw = `From: a@failover.test\r\nTo: b@dest.example\r\nSubject: failover ${i}\r\nMessage-ID: ${id}\r\n\r\nmessage ${i}\r\n`;
      for (let attempt = 0; this.running(); attempt++) {
        const t0 = Date.now();
        try {
          if (!dialog) {
            const { dialog: d } = await SmtpDialog.open(this.o.port);
            await d.send('EHLO failover.test', 5000);
            dialog = d;
          }
          const m = await dialog.send('MAIL FROM:<a@failover.test>', 5000);
          const r = m.code === 250 ? await dialog.send('RCPT TO:<b@dest.example>', 5000) : m;
          const d = r.code === 250 ? await dialog.data(raw) : r;
          if (d.code === 250) {
            this.accepted.set(id, Date.now() - this.started);
            break;
          }
          this.refusals.push({
            code: d.code,
            ms: Date.now() - t0,
            at: t0 - this.started,
            text: d.lines.join(' '),
          });
          if (d.code !== 451 && d.code !== 452 && d.code !== 421)
            throw new Error(`unexpected reply ${d.lines.join(' ')}`);
          if (r.code !== 250 || m.code !== 250 || d.code === 421) {
            dialog.close();
            dialog = undefined;
          } else await dialog.send('RSET', 5000);
        } catch (e) {
          if (e instanceof Error && e.message.startsWith('unexpected reply')) {
            this.stopped = true;
            throw e;
          }
          this.refusals.push({ code: 0, ms: Date.now() - t0, at: t0 - this.started });
          dialog?.close();
          dialog = undefined;
        }
        await sleep(100 + Math.min(attempt, 10) * 50);
      }
    }
    await dialog?.quit().catch(() => undefined);
  }
}

/** Message-ID → how many times it arrived, over raw messages. */
export function deliveredMessageIds(raws: Iterable<Buffer>): Map<string, number> {
  const ids = new Map<string, number>();
  for (const raw of raws) {
    const id = /^Message-ID: (<[^>]+>)/im.exec(raw.toString('latin1'))?.[1];
    if (id) ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  return ids;
}
