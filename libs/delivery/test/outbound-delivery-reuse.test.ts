import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { waitFor } from '@mailbus/testing';
import { OutboundDelivery, type OutboundRequest, type OutboundResult } from '../src/index.js';

/** One SMTP session as the peer saw it. */
interface Session {
  /** Every command line received, in order (message bodies not included). */
  commands: string[];
  /** Message bodies accepted in this session. */
  messages: string[];
  socket: Socket;
  closed: boolean;
}

/** What the peer does instead of its default reply: a reply line, and whether to close after it. */
type Override = { reply: string; close?: boolean } | undefined;

interface Script {
  /** Called for each command line before the default reply. */
  onCommand?: (line: string, session: Session, index: number) => Override;
  /** Called at the end of each message's data, before the default 250 (which records it). */
  onMessage?: (session: Session, index: number) => Override;
  /** Called after a message is accepted (its 250 sent). */
  afterMessage?: (session: Session) => void;
}

/**
 * A raw SMTP server on loopback that records every command line it receives,
 * per connection, and can be told to refuse, answer 421 or close: the sink
 * servers in @mailbus/testing do not show RSET or drop a session on cue.
 */
class ScriptedSmtpServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** Every session so far, in the order they connected. */
    readonly sessions: Session[],
  ) {}

  static async start(script: Script = {}): Promise<ScriptedSmtpServer> {
    const sessions: Session[] = [];
    const server = createServer((socket) => serve(socket, sessions, script));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    return new ScriptedSmtpServer(
      server,
      typeof addr === 'object' && addr ? addr.port : 0,
      sessions,
    );
  }

  /** Command verbs per session, e.g. [['EHLO', 'MAIL', 'RCPT', 'DATA']]. */
  verbs(): string[][] {
    return this.sessions.map((s) => s.commands.map((c) => c.split(/[ :]/)[0]?.toUpperCase() ?? ''));
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function serve(socket: Socket, sessions: Session[], script: Script): void {
  const session: Session = { commands: [], messages: [], socket, closed: false };
  const index = sessions.length;
  sessions.push(session);
  socket.on('close', () => (session.closed = true));
  socket.on('error', () => undefined);
  socket.setEncoding('latin1');
  const send = (o: { reply: string; close?: boolean }) => {
    if (socket.destroyed) return;
    socket.write(`${o.reply}\r\n`);
    if (o.close) socket.end();
  };
  send({ reply: '220 mx.fabrikam.test ESMTP' });
  let buffer = '';
  let inData = false;
  socket.on('data', (d: string) => {
    buffer += d;
    for (;;) {
      if (inData) {
        // With a CRLF in front, the end of data is always "\r\n.\r\n".
        const end = `\r\n${buffer}`.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const body = buffer.slice(0, Math.max(0, end - 2));
        buffer = buffer.slice(end + 3);
        inData = false;
        const o = script.onMessage?.(session, index);
        if (o) {
          send(o);
          continue;
        }
        session.messages.push(body);
        send({ reply: `250 2.0.0 Ok: queued as q${index}-${session.messages.length}` });
        script.afterMessage?.(session);
        continue;
      }
      const nl = buffer.indexOf('\r\n');
      if (nl < 0) return;
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      session.commands.push(line);
      const o = script.onCommand?.(line, session, index);
      if (o) {
        send(o);
        continue;
      }
      const verb = line.split(' ')[0]?.toUpperCase();
      if (verb === 'EHLO') send({ reply: '250-mx.fabrikam.test\r\n250 8BITMIME' });
      else if (verb === 'HELO') send({ reply: '250 mx.fabrikam.test' });
      else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP')
        send({ reply: '250 2.0.0 Ok' });
      else if (verb === 'DATA') {
        inData = true;
        send({ reply: '354 End data with <CR><LF>.<CR><LF>' });
      } else if (verb === 'QUIT') send({ reply: '221 2.0.0 Bye', close: true });
      else send({ reply: '502 5.5.2 Command not recognized' });
    }
  });
}

const TIMEOUTS = { connectMs: 2_000, greetingMs: 2_000, socketMs: 5_000 };

function request(port: number, over: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    connector: 'Internet',
    hosts: [{ name: 'mx.fabrikam.test', address: '127.0.0.1', port }],
    heloName: 'mail.contoso.com',
    heloInsteadOfEhlo: false,
    sender: 'alice@contoso.com',
    recipients: [{ address: 'bob@fabrikam.test' }],
    body: Buffer.from('Subject: hello\r\n\r\nfirst\r\n'),
    security: { tls: 'none', verifyCertificates: false },
    ...over,
  };
}

const statuses = (r: OutboundResult) => r.results.map((x) => `${x.recipient} ${x.status}`);

describe('OutboundDelivery reusing pooled connections', () => {
  let peer: ScriptedSmtpServer | undefined;
  let delivery: OutboundDelivery | undefined;
  afterEach(async () => {
    delivery?.close();
    await peer?.close();
    peer = undefined;
    delivery = undefined;
  });

  test('after a delivered message the same connection carries the next one with no RSET between', async () => {
    peer = await ScriptedSmtpServer.start();
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(request(peer.port));
    const second = await delivery.deliver(
      request(peer.port, { body: Buffer.from('Subject: again\r\n\r\nsecond\r\n') }),
    );
    assert.deepEqual(statuses(first), ['bob@fabrikam.test delivered']);
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.deepEqual(peer.verbs(), [['EHLO', 'MAIL', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'DATA']]);
    assert.deepEqual(
      peer.sessions[0]?.messages.map((m) => m.split('\r\n').at(-1)),
      ['first', 'second'],
    );
  });

  test('a message delivered to one recipient and refused for another still leaves the session clean: no RSET', async () => {
    peer = await ScriptedSmtpServer.start({
      onCommand: (line) =>
        /^RCPT TO:<nobody@/i.test(line) ? { reply: '550 5.1.1 No such user' } : undefined,
    });
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(
      request(peer.port, {
        recipients: [{ address: 'bob@fabrikam.test' }, { address: 'nobody@fabrikam.test' }],
      }),
    );
    const second = await delivery.deliver(request(peer.port));
    assert.deepEqual(statuses(first), [
      'bob@fabrikam.test delivered',
      'nobody@fabrikam.test permanent',
    ]);
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.deepEqual(peer.verbs(), [
      ['EHLO', 'MAIL', 'RCPT', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'DATA'],
    ]);
  });

  const failedTransactions: Array<{
    name: string;
    /** A fresh script per test: the first transaction fails, later ones succeed. */
    script: () => Script;
    first?: Partial<OutboundRequest>;
    firstStatus: string;
  }> = [
    {
      name: 'the only recipient is refused with 550',
      script: () => {
        let refused = false;
        return {
          onCommand: (line) =>
            /^RCPT/i.test(line) && !refused
              ? ((refused = true), { reply: '550 5.1.1 No such user' })
              : undefined,
        };
      },
      firstStatus: 'permanent',
    },
    {
      name: 'the message is refused after DATA with 451',
      script: () => {
        let refused = false;
        return {
          onMessage: () =>
            refused ? undefined : ((refused = true), { reply: '451 4.3.0 Try again later' }),
        };
      },
      firstStatus: 'transient',
    },
    {
      name: 'the sender is refused with 553',
      script: () => ({
        onCommand: (line) =>
          /^MAIL FROM:<bad@/i.test(line) ? { reply: '553 5.7.1 Sender refused' } : undefined,
      }),
      first: { sender: 'bad@contoso.com' },
      firstStatus: 'permanent',
    },
  ];
  for (const c of failedTransactions) {
    test(`after a failed transaction (${c.name}) the next message on that connection starts with RSET`, async () => {
      peer = await ScriptedSmtpServer.start(c.script());
      delivery = new OutboundDelivery(TIMEOUTS);
      const first = await delivery.deliver(request(peer.port, c.first));
      const second = await delivery.deliver(request(peer.port));
      assert.deepEqual(statuses(first), [`bob@fabrikam.test ${c.firstStatus}`]);
      assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
      assert.equal(peer.sessions.length, 1, 'the connection was reused');
      const verbs = peer.verbs()[0] ?? [];
      const secondMail = verbs.lastIndexOf('MAIL');
      assert.deepEqual(
        verbs.slice(secondMail - 1),
        ['RSET', 'MAIL', 'RCPT', 'DATA'],
        verbs.join(' '),
      );
      assert.equal(verbs.indexOf('RSET'), secondMail - 1, `one RSET only: ${verbs.join(' ')}`);
      assert.equal(peer.sessions[0]?.messages.length, 1);
    });
  }

  test('a peer that closes the connection right after accepting a message: the next one goes on a new connection', async () => {
    peer = await ScriptedSmtpServer.start({ afterMessage: (s) => s.socket.end() });
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(request(peer.port));
    // At once, before the client may have noticed the close.
    const second = await delivery.deliver(request(peer.port));
    assert.deepEqual(statuses(first), ['bob@fabrikam.test delivered']);
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.equal(second.connectionFailure, false);
    assert.equal(peer.sessions.length, 2);
    assert.deepEqual(
      peer.sessions.map((s) => s.messages.length),
      [1, 1],
    );
  });

  test('a peer that times out an idle pooled connection (421, close): the next message goes on a new connection', async () => {
    peer = await ScriptedSmtpServer.start();
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(request(peer.port));
    const idle = peer.sessions[0];
    assert.ok(idle);
    idle.socket.end('421 4.4.2 mx.fabrikam.test Error: timeout exceeded\r\n');
    await waitFor(() => idle.closed, { what: 'the idle session to close' });
    const second = await delivery.deliver(request(peer.port));
    assert.deepEqual(statuses(first), ['bob@fabrikam.test delivered']);
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.equal(peer.sessions.length, 2);
    assert.equal(peer.sessions[1]?.messages.length, 1);
  });

  test('a pooled connection whose next MAIL FROM gets 421 and a close: delivered on a new connection, not deferred', async () => {
    peer = await ScriptedSmtpServer.start({
      onCommand: (line, s, i) =>
        i === 0 && /^MAIL/i.test(line) && s.messages.length === 1
          ? { reply: '421 4.3.2 Service shutting down', close: true }
          : undefined,
    });
    delivery = new OutboundDelivery(TIMEOUTS);
    const first = await delivery.deliver(request(peer.port));
    const second = await delivery.deliver(request(peer.port));
    assert.deepEqual(statuses(first), ['bob@fabrikam.test delivered']);
    assert.deepEqual(statuses(second), ['bob@fabrikam.test delivered']);
    assert.deepEqual(peer.verbs(), [
      ['EHLO', 'MAIL', 'RCPT', 'DATA', 'MAIL'],
      ['EHLO', 'MAIL', 'RCPT', 'DATA'],
    ]);
    // A third message reuses the new connection, again without RSET.
    const third = await delivery.deliver(request(peer.port));
    assert.deepEqual(statuses(third), ['bob@fabrikam.test delivered']);
    assert.equal(peer.sessions.length, 2);
    assert.deepEqual(peer.verbs()[1], ['EHLO', 'MAIL', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'DATA']);
  });

  test('a 421 on a new connection is deferred after one attempt, not retried in a loop', async () => {
    peer = await ScriptedSmtpServer.start({
      onCommand: (line) =>
        /^MAIL/i.test(line) ? { reply: '421 4.3.2 Service shutting down', close: true } : undefined,
    });
    delivery = new OutboundDelivery(TIMEOUTS);
    const r = await delivery.deliver(request(peer.port));
    assert.deepEqual(statuses(r), ['bob@fabrikam.test transient']);
    assert.equal(r.results[0]?.reply.code, 421);
    assert.equal(peer.sessions.length, 1);
  });
});
