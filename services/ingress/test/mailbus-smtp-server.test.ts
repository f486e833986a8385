import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { MailbusSmtpServer } from '../src/mailbus-smtp-server.js';
import { newSessionId } from '../src/session-id.js';

/** One EHLO dialog: the whole text the server sent. */
function ehlo(port: number, after?: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let step = 0;
    s.setTimeout(5000, () => s.destroy(new Error(`no reply; got ${got}`)));
    s.on('data', (d) => {
      got += d.toString();
      if (step === 0 && /^220 /m.test(got)) {
        step = 1;
        s.write('EHLO t.example\r\n');
      } else if (step === 1 && /^250 /m.test(got)) {
        step = after ? 2 : 3;
        s.write(`${after ?? 'QUIT'}\r\n`);
      } else if (step === 2 && /\r\n$/.test(got)) {
        step = 3;
        s.end('QUIT\r\n');
      }
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

const BASE: SMTPServerOptions = {
  logger: false,
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  hideENHANCEDSTATUSCODES: false,
  allowInsecureAuth: true,
  onAuth: (_a, _s, cb) => cb(new Error('no')),
};
const MAILBUS = {
  greetingDelayMs: 0,
  allowPlaintextAuth: false,
  etrnAllowed: () => true,
  onEtrn: async () => ({ code: 250, enhanced: '2.0.0', text: 'started' }),
};

async function listening(server: SMTPServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.server.address() as { port: number }).port;
}

describe('MailbusSmtpServer: pooled session ids, EHLO keywords, no process-wide patch', () => {
  test('16 base-32 characters, unique over 100,000 ids', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = newSessionId();
      assert.match(id, /^[0-9a-v]{16}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 100_000);
  });

  test('smtp-server sessions get pooled ids and still greet and talk', async () => {
    const ids: string[] = [];
    const server = new MailbusSmtpServer(
      {
        logger: false,
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        onConnect(session, cb) {
          ids.push(session.id);
          cb();
        },
      },
      MAILBUS,
    );
    const port = await listening(server);
    try {
      for (let i = 0; i < 3; i++) {
        const text = await ehlo(port);
        assert.match(text, /^220 /);
        assert.match(text, /^250[ -]/m);
      }
      assert.equal(ids.length, 3);
      for (const id of ids) assert.match(id, /^[0-9a-v]{16}$/);
      assert.equal(new Set(ids).size, 3);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('only mailbus servers change: a plain smtp-server in the same process keeps its own EHLO and commands', async () => {
    const mailbus = new MailbusSmtpServer(BASE, MAILBUS);
    const plain = new SMTPServer(BASE);
    const [mp, pp] = await Promise.all([listening(mailbus), listening(plain)]);
    try {
      const m = await ehlo(mp, 'ETRN example.org');
      assert.doesNotMatch(m, /^250[ -]AUTH/m, 'mailbus: no AUTH before TLS');
      assert.match(m, /^250[ -]ETRN$/m);
      assert.match(m, /^250 2\.0\.0 started/m);
      const p = await ehlo(pp, 'ETRN example.org');
      assert.match(p, /^250[ -]AUTH /m, 'plain smtp-server: its own AUTH keyword');
      assert.doesNotMatch(p, /ETRN$/m);
      assert.match(p, /^500 5\.5\.[0-9] Error: command not recognized/m);
    } finally {
      await Promise.all([mailbus, plain].map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  });
});

describe('MailbusSmtpServer.adopt: SMTP on a socket that is already open (TURN/ATRN)', () => {
  test('the peer on the other end gets the 220 greeting and a full session; adopt resolves when it closes', async () => {
    const mailFrom: string[] = [];
    const server = new MailbusSmtpServer(
      {
        ...BASE,
        onMailFrom(address, _session, cb) {
          mailFrom.push(address.address);
          cb();
        },
      },
      MAILBUS,
    );
    // A connection made from this side (as mailbus makes one to a smart host): the
    // listener's end plays the remote, which waits for our greeting after TURN.
    const remote = createServer();
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => remote.once('connection', resolve));
    const ours = connect((remote.address() as { port: number }).port, '127.0.0.1');
    const peer = await accepted;
    await new Promise<void>((resolve) => ours.once('connect', () => resolve()));
    try {
      const served = server.adopt(ours);
      let got = '';
      let waiting: (() => void) | undefined;
      peer.on('data', (d: Buffer) => {
        got += d.toString();
        waiting?.();
      });
      const next = (re: RegExp) =>
        new Promise<void>((resolve) => {
          waiting = () => {
            if (re.test(got)) resolve();
          };
          waiting();
        });
      await next(/^220 /m);
      peer.write('EHLO isp.example\r\n');
      await next(/^250 /m);
      peer.write('MAIL FROM:<carol@isp.example>\r\n');
      await next(/^250 .*Accepted/m);
      peer.write('QUIT\r\n');
      await served;
      assert.deepEqual(mailFrom, ['carol@isp.example']);
      assert.match(got, /^221 /m);
    } finally {
      peer.destroy();
      remote.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a socket already closed resolves at once', async () => {
    const server = new MailbusSmtpServer(BASE, MAILBUS);
    const s = new Socket();
    s.destroy();
    await server.adopt(s);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
