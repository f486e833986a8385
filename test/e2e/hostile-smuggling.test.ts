import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, makeMessage, SmtpDialog, waitFor, type SinkServer } from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';

const SMTP_SINK = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find((p) =>
  existsSync(p),
);

/** Postfix's smtp-sink, dumping every message it accepts to its own file. */
class PostfixSink {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(bin: string): Promise<PostfixSink> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-smtp-sink-'));
    const child = spawn(bin, ['-u', 'root', '-d', `${dir}/%M.`, `127.0.0.1:${port}`, '20'], {
      stdio: 'ignore',
    });
    const sink = new PostfixSink(child, port, dir);
    await waitFor(
      async () => {
        try {
          const { dialog } = await SmtpDialog.open(port);
          dialog.close();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 5000, what: 'smtp-sink to listen' },
    );
    return sink;
  }

  messages(): string[] {
    return readdirSync(this.dir).map((f) => readFileSync(join(this.dir, f), 'latin1'));
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The SMTP smuggling end-of-data look-alikes (SEC Consult, 2023) and their cousins. */
const SEQUENCES: Array<[string, string]> = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
];

describe('SMTP smuggling never turns one message into two downstream (SinkServer and Postfix smtp-sink)', () => {
  let f: GatewayFixture<'node', 'port'>;
  let node: SinkServer;
  let postfix: PostfixSink | undefined;
  let port: number;

  before(async () => {
    if (SMTP_SINK) postfix = await PostfixSink.start(SMTP_SINK);
    f = await GatewayFixture.start({
      sinks: { node: {} },
      ports: ['port'],
      config: ({ redis, sinks: { node }, ports }) => `
organization: Test
redis: { url: "${redis.url}" }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${ports.port}
    fqdn: mx.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: NodeSink
    smartHosts: ["[127.0.0.1]:${node.port}"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: node.example }]
${
  postfix
    ? `  - name: PostfixSink
    smartHosts: ["[127.0.0.1]:${postfix.port}"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: postfix.example }]`
    : ''
}
`,
    });
    ({
      sinks: { node },
      ports: { port },
    } = f);
  });

  after(async () => {
    await f?.close();
    await postfix?.close();
  });

  for (const downstream of ['node', 'postfix'] as const) {
    for (const [name, seq] of SEQUENCES) {
      test(`${name} inside DATA is refused with 550 5.5.2 and ${downstream === 'node' ? 'the smtp-server sink' : "Postfix's smtp-sink"} receives exactly one message: the next valid one`, async (t) => {
        if (downstream === 'postfix' && !postfix)
          return t.skip('Postfix smtp-sink is not installed');
        const domain = `${downstream}.example`;
        const count = () =>
          downstream === 'node'
            ? node.messages.map((m) => m.raw.toString('latin1'))
            : (postfix as PostfixSink).messages();
        const before = count().length;
        const tag = `${downstream}-${name}`;
        const { dialog } = await SmtpDialog.open(port);
        await dialog.send('EHLO attacker.test');
        await dialog.send('MAIL FROM:<a@sender.test>');
        assert.equal((await dialog.send(`RCPT TO:<b@${domain}>`)).code, 250);
        const smuggled =
          `From: a@sender.test\r\nTo: b@${domain}\r\nSubject: carrier ${tag}\r\n\r\nhello${seq}` +
          `MAIL FROM:<admin@victim.test>\r\nRCPT TO:<c@${domain}>\r\nDATA\r\nFrom: admin@victim.test\r\nSubject: smuggled ${tag}\r\n\r\nevil\r\n`;
        const r = await dialog.data(smuggled);
        assert.equal(
          r.lines[r.lines.length - 1],
          '550 5.5.2 Message contains bare CR or LF; refused to prevent SMTP smuggling',
        );
        // No stray replies: the next reply is NOOP's own.
        assert.equal((await dialog.send('NOOP')).lines[0], '250 2.0.0 OK');
        await dialog.send('MAIL FROM:<a@sender.test>');
        await dialog.send(`RCPT TO:<b@${domain}>`);
        const ok = await dialog.data(
          makeMessage({ from: 'a@sender.test', to: `b@${domain}`, subject: `valid ${tag}` }),
        );
        assert.equal(ok.code, 250);
        await dialog.quit();
        await waitFor(() => count().length >= before + 1, {
          timeoutMs: 15_000,
          what: `the valid message at ${downstream}`,
        });
        // Every job has had its delivery: a smuggled message, had one been queued, is there too.
        await f.drained();
        const all = count();
        assert.equal(all.length, before + 1, 'exactly one message more downstream');
        assert.equal(
          all.filter((m) => m.includes(`Subject: valid ${tag}`)).length,
          1,
          'and it is the valid one',
        );
        assert.ok(!count().some((m) => m.includes('smuggled')), 'no smuggled message anywhere');
      });
    }
  }
});
