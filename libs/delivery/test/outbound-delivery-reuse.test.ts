import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@mailbus/testing';
import { OutboundDelivery, type OutboundRequest } from '../src/index.js';
import { request, statuses, TIMEOUTS } from './outbound-fixture.js';
import { ScriptedSmtpServer, type Script } from './scripted-smtp-server.js';

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
