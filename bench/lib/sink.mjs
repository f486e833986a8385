// The smart host both systems relay to. Two kinds:
// - SmtpSink: Postfix's smtp-sink (C, cheap), whose -c counter line is read
//   to timestamp every message arrival; used for the throughput runs.
// - NodeSink: a minimal SMTP server in this process that records the
//   arrival time of each message by its X-Bench-Id header; used for
//   latency (the load generator runs in the same process, same clock).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { onCleanup, stopChild, sleep } from './procs.mjs';

export class SmtpSink {
  constructor(port) {
    this.port = port;
    this.count = 0;
    this.firstAt = 0;
    this.lastAt = 0;
    this.sessions = 0;
  }

  async start(bin = 'smtp-sink') {
    // -c: counters on stdout; -u: drop root; backlog 1024.
    const args = ['-c', '-m', '1024', '-u', 'nobody', `127.0.0.1:${this.port}`, '1024'];
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.remove = onCleanup(() => stopChild(this.child, 2000));
    let err = '';
    this.child.stderr.on('data', (d) => (err += d));
    let tail = '';
    this.child.stdout.on('data', (d) => {
      const now = performance.now();
      const s = tail + d.toString('latin1');
      const cut = s.lastIndexOf('\r');
      tail = cut >= 0 ? s.slice(cut + 1) : s;
      const m = /sess=(\d+) quit=\d+ mesg=(\d+)\s*$/.exec(cut >= 0 ? s.slice(0, cut) : '');
      if (m) {
        const n = Number(m[2]);
        if (n > this.count) {
          if (this.count === 0) this.firstAt = now;
          this.count = n;
          this.lastAt = now;
        }
        this.sessions = Number(m[1]);
      }
    });
    await sleep(200);
    if (this.child.exitCode !== null) throw new Error(`smtp-sink exited: ${err}`);
    return this;
  }

  /** Counts from now on (the counter itself keeps running). */
  mark() {
    return { base: this.count };
  }

  /**
   * Waits until `expected` messages arrived after the mark, or nothing
   * arrived for idleMs, or timeoutMs passed. Returns the time of the last arrival.
   */
  async waitFor(mark, expected, { timeoutMs = 300_000, idleMs = 20_000 } = {}) {
    const started = performance.now();
    let lastCount = -1;
    let lastChange = performance.now();
    for (;;) {
      const got = this.count - mark.base;
      if (got >= expected) break;
      if (got !== lastCount) {
        lastCount = got;
        lastChange = performance.now();
      }
      if (performance.now() - lastChange > idleMs) break;
      if (performance.now() - started > timeoutMs) break;
      await sleep(20);
    }
    return { received: this.count - mark.base, lastAt: this.lastAt };
  }

  async stop() {
    this.remove?.();
    await stopChild(this.child, 2000);
  }
}

/** A minimal SMTP server (PIPELINING, 8BITMIME) that records arrival times. */
export class NodeSink {
  constructor() {
    /** X-Bench-Id → performance.now() at the end of DATA. */
    this.arrivals = new Map();
    this.count = 0;
  }

  start() {
    this.server = createServer((sock) => this.session(sock));
    this.remove = onCleanup(() => this.stop());
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve(this);
      }),
    );
  }

  session(sock) {
    this.sockets ??= new Set();
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.setNoDelay(true);
    let buf = '';
    let inData = false;
    sock.on('error', () => undefined);
    sock.write('220 nodesink ESMTP\r\n');
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let out = '';
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) break;
          const msg = buf.slice(0, end + 2);
          buf = buf.slice(end + 5);
          inData = false;
          const now = performance.now();
          this.count++;
          const i = msg.indexOf('X-Bench-Id: ');
          if (i >= 0) {
            const j = msg.indexOf('\r\n', i);
            this.arrivals.set(msg.slice(i + 12, j), now);
          }
          out += '250 2.0.0 Ok: queued\r\n';
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO')
          out += '250-nodesink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n';
        else if (verb === 'DATA') {
          out += '354 End data with <CR><LF>.<CR><LF>\r\n';
          inData = true;
          // A DATA that ends "\r\n.\r\n" right after 354 needs the leading CRLF.
          buf = `\r\n${buf}`;
        } else if (verb === 'QUIT') {
          sock.end(`${out}221 2.0.0 Bye\r\n`);
          return;
        } else out += '250 2.0.0 Ok\r\n';
      }
      if (out) sock.write(out);
    });
  }

  stop() {
    this.remove?.();
    for (const s of this.sockets ?? []) s.destroy();
    return new Promise((r) => (this.server?.listening ? this.server.close(() => r()) : r()));
  }
}
