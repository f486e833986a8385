import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@mailbus/testing';

export const hasPostfix =
  process.getuid?.() === 0 &&
  existsSync('/usr/sbin/postfix') &&
  spawnSync('getent', ['passwd', 'postfix']).status === 0;

/** One message as the Postfix next hop queued it: its envelope records (postcat -e). */
export interface PostfixEnvelope {
  id: string;
  /** `named_attribute` and plain records, e.g. `encoding`, `notify_flags`, `dsn_orig_rcpt`, `recipient`. */
  records: Array<[string, string]>;
  /** The message as queued (postcat -b -h). */
  content: string;
}

/**
 * A private Postfix instance as the next hop (bench/lib/postfix.mjs does the
 * same for the benchmark): own config and queue directories, `postfix -c DIR
 * start`, 127.0.0.1 only, `smtpd_forbid_bare_newline = no` (it takes
 * `<LF>.<CR><LF>` as end of data, the smuggling-prone setting). Every message
 * it accepts is put on hold, so its queue file shows what it was given:
 * `BODY=8BITMIME` as `encoding=8bit`, NOTIFY as `notify_flags`, ORCPT as
 * `dsn_orig_rcpt`. `discard` lists EHLO keywords it hides
 * (`smtpd_discard_ehlo_keywords`), e.g. `['dsn', '8bitmime']`; `main` adds
 * main.cf lines that override these (e.g. no hold, relay domains, ETRN).
 */
export class PostfixNextHop {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  private get conf(): string {
    return join(this.dir, 'etc');
  }

  static async start(
    o: { discard?: string[]; port?: number; main?: string[] } = {},
  ): Promise<PostfixNextHop> {
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-postfix-'));
    const port = o.port ?? (await freePort());
    const p = new PostfixNextHop(dir, port);
    chmodSync(dir, 0o755);
    for (const d of ['etc', 'queue', 'data']) mkdirSync(join(dir, d));
    const pf = execFileSync('getent', ['passwd', 'postfix']).toString().split(':');
    chownSync(join(dir, 'data'), Number(pf[2]), Number(pf[3]));
    const main = [
      'compatibility_level = 3.6',
      `queue_directory = ${join(dir, 'queue')}`,
      `data_directory = ${join(dir, 'data')}`,
      'command_directory = /usr/sbin',
      'daemon_directory = /usr/lib/postfix/sbin',
      'shlib_directory = /usr/lib/postfix',
      'meta_directory = /etc/postfix',
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = postfix-next-hop.test',
      'mydomain = test',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
      'smtpd_end_of_data_restrictions = check_client_access static:HOLD',
      'smtpd_forbid_bare_newline = no',
      `smtpd_discard_ehlo_keywords = ${(o.discard ?? []).join(', ')}`,
      'alias_maps =',
      'alias_database =',
      'local_recipient_maps =',
      'biff = no',
      `maillog_file = ${join(dir, 'maillog')}`,
      `maillog_file_prefixes = ${dir}`,
      'master_service_disable =',
      // Settings of the caller's own: a later line overrides an earlier one in main.cf.
      ...(o.main ?? []),
    ];
    writeFileSync(join(dir, 'etc', 'main.cf'), `${main.join('\n')}\n`);
    const master = readFileSync('/etc/postfix/master.cf', 'utf8')
      .split('\n')
      .map((l) => {
        if (/^smtp\s+inet\s/.test(l)) return `127.0.0.1:${port} inet n - n - - smtpd`;
        const f = l.split(/\s+/);
        if (l.startsWith('#') || /^\s/.test(l) || f.length < 8) return l;
        f[4] = 'n'; // no chroot: the private queue directory has no chroot files
        return f.join(' ');
      });
    writeFileSync(join(dir, 'etc', 'master.cf'), master.join('\n'));
    const env = { ...process.env, MAIL_CONFIG: p.conf };
    spawnSync('postfix', ['-c', p.conf, 'set-permissions'], { env, timeout: 60_000 });
    const r = spawnSync('postfix', ['-c', p.conf, 'start'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`postfix start failed: ${r.stderr}${r.stdout}`);
    await waitFor(() => existsSync(join(dir, 'queue', 'pid', 'master.pid')), {
      timeoutMs: 10_000,
      what: 'postfix master',
    });
    return p;
  }

  /** Queue ids of the messages it holds. */
  held(): string[] {
    const hold = join(this.dir, 'queue', 'hold');
    return existsSync(hold) ? readdirSync(hold) : [];
  }

  /** Waits until it holds `n` messages and returns their envelopes. */
  async waitForHeld(n: number, timeoutMs = 20_000): Promise<PostfixEnvelope[]> {
    await waitFor(() => this.held().length >= n, {
      timeoutMs,
      what: `${n} message(s) held by Postfix (has ${this.held().length})`,
    });
    return this.held().map((id) => this.envelope(id));
  }

  envelope(id: string): PostfixEnvelope {
    const run = (flags: string) =>
      execFileSync('postcat', ['-c', this.conf, flags, '-q', id], { encoding: 'latin1' });
    const records = run('-e')
      .split('\n')
      .flatMap((l): Array<[string, string]> => {
        const m = /^(?:named_attribute: )?([a-z_]+)(?::|=) ?(.*)$/.exec(l);
        if (!m || l.startsWith('***')) return [];
        const named = /^named_attribute: ([a-z_]+)=(.*)$/.exec(l);
        return [
          named ? [named[1] as string, named[2] as string] : [m[1] as string, m[2] as string],
        ];
      });
    return { id, records, content: run('-bh').replace(/^\*\*\*.*\n/gm, '') };
  }

  /** Queue ids in the deferred queue (hashed subdirectories). */
  deferred(): string[] {
    const root = join(this.dir, 'queue', 'deferred');
    if (!existsSync(root)) return [];
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  }

  /** The instance's mail log (maillog_file). */
  log(): string {
    const f = join(this.dir, 'maillog');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** Removes every held message (between cases). */
  flush(): void {
    spawnSync('postsuper', ['-c', this.conf, '-d', 'ALL', 'hold']);
  }

  async close(): Promise<void> {
    spawnSync('postfix', ['-c', this.conf, 'stop'], { timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The value of the first envelope record named `name`. */
export function record(e: PostfixEnvelope, name: string): string | undefined {
  return e.records.find(([k]) => k === name)?.[1];
}
