// A private Postfix instance as a relay: its own config directory, queue
// directory and port, relayhost = the sink; Debian defaults otherwise
// (cleanup fsyncs every queue file before smtpd answers 250).
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  readFileSync,
  writeFileSync,
  existsSync,
  rmSync,
  chownSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { onCleanup, procStat, sleep, run } from './procs.mjs';

export class PostfixRelay {
  constructor({ dir, port, sinkPort }) {
    this.dir = dir;
    this.port = port;
    this.sinkPort = sinkPort;
    this.conf = join(dir, 'etc');
    this.queue = join(dir, 'queue');
    this.data = join(dir, 'data');
  }

  static version() {
    try {
      return execFileSync('postconf', ['-d', '-h', 'mail_version']).toString().trim();
    } catch {
      return 'unknown';
    }
  }

  writeConfig() {
    mkdirSync(this.conf, { recursive: true });
    // Postfix daemons run as the postfix user and must traverse the directory.
    chmodSync(this.dir, 0o755);
    mkdirSync(this.queue, { recursive: true });
    mkdirSync(this.data, { recursive: true });
    const pf = execFileSync('getent', ['passwd', 'postfix']).toString().split(':');
    chownSync(this.data, Number(pf[2]), Number(pf[3]));
    const main = [
      'compatibility_level = 3.6',
      `queue_directory = ${this.queue}`,
      `data_directory = ${this.data}`,
      'command_directory = /usr/sbin',
      'daemon_directory = /usr/lib/postfix/sbin',
      'shlib_directory = /usr/lib/postfix',
      'meta_directory = /etc/postfix',
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = postfix-bench.localdomain',
      'mydomain = localdomain',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      `relayhost = [127.0.0.1]:${this.sinkPort}`,
      'mynetworks = 127.0.0.0/8',
      'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
      'alias_maps =',
      'alias_database =',
      'local_recipient_maps =',
      'smtp_tls_security_level = none',
      'smtpd_tls_security_level = none',
      'message_size_limit = 20971520',
      'biff = no',
      `maillog_file = ${join(this.dir, 'maillog')}`,
      `maillog_file_prefixes = ${this.dir}`,
      'master_service_disable =',
    ].join('\n');
    writeFileSync(join(this.conf, 'main.cf'), `${main}\n`);
    // master.cf from the distribution: no chroot (the private queue directory
    // has no chroot files), and smtpd only on our private port.
    const lines = readFileSync('/etc/postfix/master.cf', 'utf8').split('\n');
    const out = [];
    for (const l of lines) {
      if (/^smtp\s+inet\s/.test(l)) {
        out.push(`127.0.0.1:${this.port} inet n - n - - smtpd`);
        continue;
      }
      const f = l.split(/\s+/);
      if (!l.startsWith('#') && !/^\s/.test(l) && f.length >= 8) {
        f[4] = 'n';
        out.push(f.join(' '));
      } else out.push(l);
    }
    writeFileSync(join(this.conf, 'master.cf'), out.join('\n'));
  }

  async start() {
    this.writeConfig();
    this.remove = onCleanup(() => this.stop());
    const env = { ...process.env, MAIL_CONFIG: this.conf };
    const setp = await run('postfix', ['-c', this.conf, 'set-permissions'], {
      env,
      timeoutMs: 60_000,
    });
    if (setp.code !== 0)
      throw new Error(
        `postfix set-permissions failed (run it under script(1) to see why): ${setp.err}${setp.out}`,
      );
    const r = await run('postfix', ['-c', this.conf, 'start'], { env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`postfix start failed: ${r.err}${r.out}${this.logTail()}`);
    const pidFile = join(this.queue, 'pid', 'master.pid');
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await sleep(50);
    this.masterPid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!procStat(this.masterPid)) throw new Error('postfix master is not running');
  }

  logTail() {
    try {
      return `\n${readFileSync(join(this.dir, 'maillog'), 'utf8').split('\n').slice(-5).join('\n')}`;
    } catch {
      return '';
    }
  }

  /** Messages still in the queue (active, incoming, deferred, maildrop). */
  queued() {
    let n = 0;
    const walk = (d) => {
      let ents = [];
      try {
        ents = execFileSync('find', [d, '-type', 'f']).toString().split('\n').filter(Boolean);
      } catch {
        return;
      }
      n += ents.length;
    };
    for (const q of ['incoming', 'active', 'deferred', 'maildrop', 'hold'])
      walk(join(this.queue, q));
    return n;
  }

  async stop() {
    this.remove?.();
    if (!this.masterPid || !procStat(this.masterPid)) return;
    const env = { ...process.env, MAIL_CONFIG: this.conf };
    await run('postfix', ['-c', this.conf, 'stop'], { env, timeoutMs: 30_000 });
    for (let i = 0; i < 100 && procStat(this.masterPid); i++) await sleep(100);
    if (procStat(this.masterPid)) {
      try {
        process.kill(this.masterPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /** Removes the queue so the next run starts empty (the instance must be stopped). */
  clean() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
