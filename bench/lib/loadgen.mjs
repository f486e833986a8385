// A fixed-rate SMTP load generator for latency: `sessions` persistent SMTP
// sessions share one schedule (message i is due at start + i / rate); each
// message carries a unique X-Bench-Id header, and the time of the 250 after
// "." is recorded so the sink's arrival time gives 250 → arrival latency.
import { connect } from 'node:net';

function body(id, size) {
  const head =
    `From: <bench@source.test>\r\nTo: <rcpt@example.net>\r\nSubject: bench ${id}\r\n` +
    `Message-ID: <${id}@bench.test>\r\nDate: ${new Date().toUTCString()}\r\nX-Bench-Id: ${id}\r\n\r\n`;
  const line =
    'La la la la la la la la la la la la la la la la la la la la la la la la la la la la la la la la la la la\r\n';
  let b = '';
  while (b.length + line.length <= size) b += line;
  return `${head}${b}.\r\n`;
}

/** One SMTP session that sends messages in turn (no pipelining, like smtp-source). */
class Session {
  constructor(port) {
    this.port = port;
    this.waiters = [];
    this.buf = '';
  }

  open() {
    return new Promise((resolve, reject) => {
      this.sock = connect({ host: '127.0.0.1', port: this.port });
      this.sock.setNoDelay(true);
      this.sock.on('data', (d) => this.onData(d));
      this.sock.on('error', (e) => {
        for (const w of this.waiters.splice(0)) w.reject(e);
        reject(e);
      });
      this.sock.once('connect', async () => {
        try {
          await this.reply(220);
          this.sock.write('EHLO loadgen.test\r\n');
          await this.reply(250);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  onData(d) {
    this.buf += d.toString('latin1');
    for (;;) {
      // A complete reply: a line whose 4th char is a space.
      const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buf);
      if (!m) return;
      const end = m.index + m[0].length;
      const code = Number(m[2]);
      const text = this.buf.slice(0, end);
      this.buf = this.buf.slice(end);
      const w = this.waiters.shift();
      if (w) w.resolve({ code, text, at: performance.now() });
    }
  }

  async reply(expect) {
    const r = await new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (r.code !== expect) throw new Error(`expected ${expect}, got ${r.text.trim()}`);
    return r;
  }

  async send(id, size, recipients) {
    this.sock.write('MAIL FROM:<bench@source.test>\r\n');
    await this.reply(250);
    for (const r of recipients) {
      this.sock.write(`RCPT TO:<${r}>\r\n`);
      await this.reply(250);
    }
    this.sock.write('DATA\r\n');
    await this.reply(354);
    this.sock.write(body(id, size));
    const r = await this.reply(250);
    return r.at;
  }

  close() {
    this.sock?.end('QUIT\r\n');
    this.sock?.destroy();
  }
}

/**
 * Sends `count` messages at `rate` msg/s over `sessions` sessions; resolves
 * with { accepted: Map id → t250, errors, lagMs } (bounded by timeoutMs).
 */
export async function fixedRateLoad({
  port,
  count,
  rate,
  sessions = 20,
  size = 5120,
  recipients = ['rcpt@example.net'],
  prefix = 'L',
  timeoutMs = 300_000,
}) {
  const pool = [];
  for (let i = 0; i < sessions; i++) {
    const s = new Session(port);
    await s.open();
    pool.push(s);
  }
  const accepted = new Map();
  let errors = 0;
  let next = 0;
  let maxLag = 0;
  const t0 = performance.now() + 50;
  const deadline = t0 + timeoutMs;
  const worker = async (s) => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else maxLag = Math.max(maxLag, -wait);
      if (performance.now() > deadline) return;
      const id = `${prefix}${i}`;
      try {
        accepted.set(id, await s.send(id, size, recipients));
      } catch {
        errors++;
        return;
      }
    }
  };
  await Promise.all(pool.map(worker));
  for (const s of pool) s.close();
  return { accepted, errors, lagMs: maxLag, seconds: (performance.now() - t0) / 1000 };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
