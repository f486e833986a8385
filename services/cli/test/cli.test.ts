import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, makeMessage, sendMail, waitFor } from '@mailbus/testing';
import { MailbusProcess } from './mailbus-process.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.js');

function mailbus(
  args: string[],
  input?: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    input,
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailbus-cli-'));
  const file = join(dir, 'mailbus.yaml');
  writeFileSync(file, yaml);
  return file;
}

const SEED = writeConfig(`
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]:25"] }
virtualServers:
  - { name: default, listen: "127.0.0.1:2525", fqdn: mail.contoso.com }
connectors:
  - { name: Internet, smartHosts: ["[192.0.2.25]"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 1 }] }
  - { name: Net, smartHosts: ["relay.net.example:587"], bridgeheads: [default], addressSpaces: [{ domain: "*.net", cost: 1 }] }
  - { name: Backup, smartHosts: ["[192.0.2.26]"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 2 }] }
  - { name: Small, smartHosts: ["[192.0.2.27]"], bridgeheads: [default], addressSpaces: [{ domain: small.example }], contentRestrictions: { maxSizeKB: 100 } }
`);

describe('mailbus route --json', () => {
  test('prints one entry per --to, in order: connectors in try order, local mailbox hosts, or the rejection', () => {
    const r = mailbus([
      'route',
      '--config',
      SEED,
      '--from',
      'a@contoso.com',
      '--to',
      'x@example.org',
      '--to',
      'y@x.net',
      '--to',
      'z@contoso.com',
      '--to',
      'w@small.example',
      '--size-kb',
      '200',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      recipients: [
        {
          recipient: 'x@example.org',
          connectors: [
            { name: 'Internet', cost: 1 },
            { name: 'Backup', cost: 2 },
          ],
        },
        { recipient: 'y@x.net', connectors: [{ name: 'Net', cost: 1 }] },
        { recipient: 'z@contoso.com', local: { mailboxHosts: ['[10.0.0.5]:25'] } },
        {
          recipient: 'w@small.example',
          rejected: {
            code: 552,
            enhanced: '5.3.4',
            reason: JSON.parse(r.stdout).recipients[3].rejected.reason,
          },
        },
      ],
    });
  });

  test('--priority and --system route as a message of that priority or a system message would; without --json it says why a connector was dropped', () => {
    const file = writeConfig(`
virtualServers:
  - { name: default, listen: "127.0.0.1:2525", fqdn: mail.contoso.com }
connectors:
  - { name: Urgent, smartHosts: ["[192.0.2.30]"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 1 }], contentRestrictions: { priorities: [high, normal], types: [nonSystem] } }
  - { name: Any, smartHosts: ["[192.0.2.31]"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 2 }] }
`);
    const route = (...extra: string[]) =>
      mailbus(['route', '--config', file, '--from', 'a@b.test', '--to', 'x@example.org', ...extra]);
    const names = (...extra: string[]) => {
      const r = route(...extra, '--json');
      assert.equal(r.status, 0, r.stderr);
      return (
        JSON.parse(r.stdout) as { recipients: Array<{ connectors: Array<{ name: string }> }> }
      ).recipients[0]?.connectors.map((c) => c.name);
    };
    assert.deepEqual(names(), ['Urgent', 'Any']);
    assert.deepEqual(names('--priority', 'high'), ['Urgent', 'Any']);
    assert.deepEqual(names('--priority', 'low'), ['Any']);
    assert.deepEqual(names('--system'), ['Any']);
    const text = route('--priority', 'low');
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /^ +Urgent \[address space \*, cost 1\]: dropped, content restrictions do not allow low priority$/m,
    );
    assert.match(text.stdout, /^ +Any \[address space \*, cost 2\]: kept$/m);
    assert.equal(route('--priority', 'urgent').status, 2);
  });

  test("README's example: deploy/mailbus.yaml routes someone@example.com to Internet, then Backup, exactly as the README prints it", () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const m = /```sh\nnpx mailbus (route [^\n]+)\n(\{[^\n]+\})\n```/.exec(readme);
    assert.ok(m, 'the README shows a route command and its output');
    const args = (m[1] ?? '').split(' ');
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: root });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), m[2]);
  });

  test('a usage mistake exits 2 with the usage text', () => {
    const r = mailbus(['route', '--config', SEED, '--to', 'x@example.org']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--from/);
    assert.equal(mailbus(['frobnicate']).status, 2);
    assert.equal(mailbus(['route', '--bogus']).status, 2);
  });
});

describe('mailbus config check', () => {
  test('a valid config exits 0', () => {
    const r = mailbus(['config', 'check', '--config', SEED]);
    assert.equal(r.status, 0, r.stderr);
  });

  test('an invalid config exits 1 with one `<path>: <reason> [CODE]` line per error', () => {
    const bad = writeConfig(`
virtualServers:
  - { name: default, listen: "127.0.0.1:2525", fqdn: mail.contoso.com }
connectors:
  - { name: A, smartHosts: ["192.0.2.1"], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 1 }] }
  - { name: B, smartHosts: ["[192.0.2.2]"], bridgeheads: [nowhere], addressSpaces: [{ domain: "*", cost: 200 }], colour: blue }
`);
    const r = mailbus(['config', 'check', '--config', bad]);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    for (const l of lines) assert.match(l, /^\S+: .+ \[MAILBUS_ERR_CONFIG_[A-Z_]+\]$/);
    assert.ok(
      lines.some((l) => l.startsWith('connectors[1].colour: ')),
      r.stderr,
    );
    const good = writeConfig(readFileSync(bad, 'utf8').replace(', colour: blue', ''));
    const r2 = mailbus(['config', 'check', '--config', good]);
    assert.equal(r2.status, 1);
    const l2 = r2.stderr.trim().split('\n');
    assert.ok(
      l2.some((l) => /^connectors\[0\]\.smartHosts\[0\]: .*bracket/.test(l)),
      r2.stderr,
    );
    assert.ok(
      l2.some((l) => /^connectors\[1\]\.bridgeheads\[0\]: /.test(l)),
      r2.stderr,
    );
    assert.ok(
      l2.some((l) => /^connectors\[1\]\.addressSpaces\[0\]\.cost: /.test(l)),
      r2.stderr,
    );
  });

  test('a missing config file exits 1 naming the file', () => {
    const r = mailbus(['config', 'check', '--config', '/nonexistent/mailbus.yaml']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/nonexistent\/mailbus\.yaml/);
  });
});

describe('mailbus user add', () => {
  test('writes a scrypt hash for the user, replacing an older line for the same user', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mailbus-users-')), 'users.passwd');
    assert.equal(mailbus(['user', 'add', '--file', file, '--user', 'alice'], 'first\n').status, 0);
    assert.equal(mailbus(['user', 'add', '--file', file, '--user', 'alice'], 'second\n').status, 0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /^alice:\$scrypt\$N=16384,r=8,p=1\$/);
    assert.ok(!readFileSync(file, 'utf8').includes('second'));
  });

  test('--cram-md5 also stores the CRAM-MD5 secret (HMAC-MD5 states), never the password', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mailbus-users-')), 'users.passwd');
    const r = mailbus(['user', 'add', '--file', file, '--user', 'branch', '--cram-md5'], 'pw-x\n');
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^branch:\$scrypt\$[^:]+:\$cram-md5\$[0-9a-f]{64}\n$/);
    assert.ok(!text.includes('pw-x'));
  });
});

describe('install', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
  test('`npx mailbus --help` and `--version` work after `npm ci && npm run build` (the bin is committed, not built)', () => {
    for (const [args, pattern] of [
      [['--help'], /usage: mailbus <command>/],
      [['--version'], /^mailbus \d+\.\d+\.\d+\n$/],
    ] as const) {
      const r = spawnSync('npx', ['--no-install', 'mailbus', ...args], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, pattern);
    }
  });
});

describe('mailbus sink', () => {
  test('--listen takes SMTP, prints one line per message, and --dir keeps each as an .eml file', async () => {
    const port = await freePort();
    const dir = join(mkdtempSync(join(tmpdir(), 'mailbus-sink-')), 'mail');
    const sink = MailbusProcess.spawn(['sink', '--listen', `127.0.0.1:${port}`, '--dir', dir]);
    try {
      await sink.waitForOutput(`sink listening on 127.0.0.1:${port}`);
      const raw = makeMessage({ from: 'a@b.test', to: 'c@d.test', subject: 'to the sink' });
      const sent = await sendMail({ port, from: 'a@b.test', to: ['c@d.test'], raw });
      assert.match(sent.response, /^250 /);
      await sink.waitForOutput(/#1 from <a@b\.test> to <c@d\.test> \d+ bytes "to the sink"/);
      // The line is printed just before the file is written.
      const files = await waitFor(() => readdirSync(dir).length > 0 && readdirSync(dir), {
        what: 'the .eml file',
      });
      assert.equal(files.length, 1, files.join(', '));
      assert.match(files[0] ?? '', /\.eml$/);
      assert.match(readFileSync(join(dir, files[0] ?? ''), 'utf8'), /Subject: to the sink/);
    } finally {
      await sink.stop();
    }
  });
});
