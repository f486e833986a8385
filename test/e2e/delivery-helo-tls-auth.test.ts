import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeMessage,
  makeTestCertificate,
  sendMail,
  waitFor,
  type ReceivedMessage,
  type SinkServer,
} from '@mailbus/testing';
import { queuedId } from './delivery-helpers.js';
import { GatewayFixture } from './support/gateway-fixture.js';

describe('outbound HELO mode, STARTTLS and AUTH against real sinks', () => {
  let f: GatewayFixture<'plain' | 'tlsSink' | 'authSink', 'ingress'>;
  let plain: SinkServer;
  let tlsSink: SinkServer;
  let authSink: SinkServer;
  let ingress: number;
  const cert = makeTestCertificate('smarthost.test');

  before(async () => {
    f = await GatewayFixture.start({
      sinks: {
        plain: {},
        tlsSink: { tls: { key: cert.key, cert: cert.cert } },
        authSink: { auth: { user: 'relayuser', pass: 's3cret' } },
      },
      ports: ['ingress'],
      env: { RELAY_PASSWORD: 's3cret', WRONG_PASSWORD: 'guess' },
      config: ({ redis, sinks: { plain, tlsSink, authSink }, ports }) => `
organization: Test
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${ports.ingress}
    fqdn: hub.mailbus.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: OldPeer
    smartHosts: ["[127.0.0.1]:${plain.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: helo.example }]
    heloInsteadOfEhlo: true
  - name: Opportunistic
    smartHosts: ["[127.0.0.1]:${tlsSink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: tls.example }]
  - name: TlsRequired
    smartHosts: ["[127.0.0.1]:${plain.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: secret.example, cost: 1 }]
    outboundSecurity: { tls: required }
  - name: TlsBackup
    smartHosts: ["[127.0.0.1]:${tlsSink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: secret.example, cost: 2 }]
    outboundSecurity: { tls: required }
  - name: Authenticated
    smartHosts: ["[127.0.0.1]:${authSink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: auth.example }]
    outboundSecurity: { auth: basic, username: relayuser, passwordEnv: RELAY_PASSWORD }
  - name: WrongPassword
    smartHosts: ["[127.0.0.1]:${authSink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: badauth.example }]
    outboundSecurity: { auth: basic, username: relayuser, passwordEnv: WRONG_PASSWORD }
`,
    });
    ({
      sinks: { plain, tlsSink, authSink },
      ports: { ingress },
    } = f);
  });

  after(async () => {
    await f?.close();
    cert.cleanup();
  });

  async function send(to: string, subject: string): Promise<string> {
    const r = await sendMail({
      port: ingress,
      from: 'alice@sender.test',
      to: [to],
      raw: makeMessage({ from: 'alice@sender.test', to, subject }),
    });
    return queuedId(r.response);
  }
  const find = (sink: SinkServer, subject: string): ReceivedMessage | undefined =>
    sink.messages.find((m) => m.raw.includes(`Subject: ${subject}\r\n`));

  test('heloInsteadOfEhlo: the smart host sees HELO, not EHLO', async () => {
    await send('a@helo.example', 'helo-mode');
    const msg = await waitFor(() => find(plain, 'helo-mode'), {
      timeoutMs: 15_000,
      what: 'helo-mode at the sink',
    });
    assert.equal(msg.transmissionType, 'SMTP', 'HELO gives SMTP; EHLO would give ESMTP');
    assert.equal(msg.clientHostname, 'hub.mailbus.test');
  });

  test('STARTTLS is used when the smart host offers it (tls: opportunistic)', async () => {
    await send('b@tls.example', 'opportunistic-tls');
    const msg = await waitFor(() => find(tlsSink, 'opportunistic-tls'), {
      timeoutMs: 15_000,
      what: 'opportunistic-tls at the sink',
    });
    assert.equal(msg.secure, true);
    assert.equal(msg.transmissionType, 'ESMTPS');
  });

  test('tls: required against a smart host without STARTTLS never sends in clear and fails over to the next connector', async () => {
    const id = await send('c@secret.example', 'tls-required');
    const msg = await waitFor(() => find(tlsSink, 'tls-required'), {
      timeoutMs: 15_000,
      what: 'tls-required at the cost-2 sink',
    });
    assert.equal(msg.secure, true);
    assert.equal(find(plain, 'tls-required'), undefined, 'never sent in clear');
    const failover = (await f.queue.tracking.history(id)).find((e) => e.type === 'failover');
    assert.match(failover?.reply ?? '', /^451 4\.7\.0 TLS required/);
  });

  test('AUTH basic with the password from the environment is accepted by a smart host that requires it', async () => {
    await send('d@auth.example', 'auth-ok');
    const msg = await waitFor(() => find(authSink, 'auth-ok'), {
      timeoutMs: 15_000,
      what: 'auth-ok at the sink',
    });
    assert.equal(msg.user, 'relayuser');
  });

  test('a wrong password is not final: the message is deferred, never delivered without AUTH', async () => {
    const id = await send('e@badauth.example', 'auth-wrong');
    const q = f.queue;
    const deferred = await waitFor(
      async () => (await q.tracking.history(id)).find((e) => e.type === 'deferred'),
      { timeoutMs: 15_000, what: 'a deferred event' },
    );
    assert.match(deferred.reply ?? '', /535 5\.7\.8/);
    // The attempt is over once its retry job waits in the queue: whatever it sent is at the sink.
    await waitFor(async () => (await f.jobs(id)).some((j) => j.state === 'retrying'), {
      timeoutMs: 10_000,
      what: 'the message to wait for its retry',
    });
    assert.equal(find(authSink, 'auth-wrong'), undefined);
    assert.ok(
      !(await q.tracking.history(id)).some((e) => e.type === 'dsn' || e.type === 'failed'),
      'no bounce',
    );
  });
});
