import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '@mailbus/ingress';
import {
  freePort,
  makeTestCertificate,
  RedisServer,
  SinkServer,
  SmtpDialog,
} from '@mailbus/testing';
import { MailbusProcess } from './support/mailbus-process.js';

const hasSwaks = spawnSync('swaks', ['--version']).status === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;

/** Python's smtplib as the client: what it sees of the EHLO keywords before and after STARTTLS. */
const SMTPLIB = `
import json, smtplib, ssl, sys
port = int(sys.argv[1])
s = smtplib.SMTP('127.0.0.1', port, timeout=10)
s.ehlo('smtplib.test')
out = {'plainAuth': s.has_extn('auth'), 'plainEtrn': s.has_extn('etrn')}
try:
    s.login('alice', 'correct horse')
    out['plainLogin'] = 'accepted'
except smtplib.SMTPNotSupportedError as e:
    out['plainLogin'] = 'not offered'
except smtplib.SMTPException as e:
    out['plainLogin'] = repr(e)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo('smtplib.test')
out['tlsAuth'] = s.esmtp_features.get('auth', '').strip()
s.login('alice', 'correct horse')
out['tlsLogin'] = 'accepted'
s.quit()
print(json.dumps(out))
`;

describe('client sessions against real clients (swaks, smtplib): EHLO keywords and the Received header', () => {
  let redis: RedisServer;
  let sink: SinkServer;
  let gateway: MailbusProcess;
  let secure: number;
  let plaintext: number;
  let noEtrn: number;
  let mail: number;
  const cert = makeTestCertificate('secure.ehlo.test');

  before(async () => {
    redis = await RedisServer.start();
    sink = await SinkServer.start();
    [secure, plaintext, noEtrn, mail] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const users = join(cert.dir, 'users.passwd');
    writeFileSync(users, `alice:${await hashPassword('correct horse')}\n`);
    gateway = await MailbusProcess.start(
      `
redis: { url: "${redis.url}" }
virtualServers:
  - name: secure
    listen: 127.0.0.1:${secure}
    fqdn: secure.ehlo.test
    relay: { allow: [], etrn: [127.0.0.1/32] }
    auth: { usersFile: "${users}" }
    tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }
  - name: plaintext
    listen: 127.0.0.1:${plaintext}
    fqdn: plain.ehlo.test
    relay: { allow: [] }
    auth: { usersFile: "${users}", allowPlaintext: true }
  - name: mail
    listen: 127.0.0.1:${mail}
    fqdn: mail.ehlo.test
  - name: noetrn
    listen: 127.0.0.1:${noEtrn}
    fqdn: noetrn.ehlo.test
    relay: { allow: [127.0.0.1/32], etrn: [10.0.0.0/8] }
connectors:
  - name: Held
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [secure]
    addressSpaces: [{ domain: held.example }]
    delivery: { remoteTriggered: true }
  - name: Internet
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [mail]
    addressSpaces: [{ domain: "*" }]
`,
      {
        listening: [`127.0.0.1:${secure}`, `127.0.0.1:${plaintext}`, `127.0.0.1:${noEtrn}`],
      },
    );
  });

  after(async () => {
    await gateway?.close();
    await sink?.close();
    await redis?.close();
    cert.cleanup();
  });

  test(
    'swaks without TLS finds no AUTH and never sends the password; with STARTTLS it authenticates',
    { skip: !hasSwaks && 'swaks is not installed' },
    () => {
      const auth = ['--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'correct horse'];
      const base = ['--server', `127.0.0.1:${secure}`, '--quit-after', 'AUTH', '--timeout', '10'];
      const clear = spawnSync('swaks', [...base, ...auth], { encoding: 'utf8', timeout: 20_000 });
      const seen = clear.stdout + clear.stderr;
      assert.notEqual(clear.status, 0, seen);
      assert.doesNotMatch(seen, /<-\s+250[ -]AUTH/);
      assert.doesNotMatch(seen, /~?>\s+AUTH PLAIN/, 'no AUTH command on the wire');
      assert.match(seen, /Host did not advertise authentication/);
      const tls = spawnSync('swaks', [...base, '--tls', ...auth], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(tls.status, 0, tls.stdout + tls.stderr);
      assert.match(tls.stdout, /<~\s+250[ -]AUTH PLAIN LOGIN/);
      assert.match(tls.stdout, /<~\s+235 /);
    },
  );

  test(
    'smtplib sees no AUTH before STARTTLS (login: not offered), AUTH after it, and ETRN from an allowed client',
    { skip: !hasPython && 'python3 is not installed' },
    () => {
      const r = spawnSync('python3', ['-c', SMTPLIB, String(secure)], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        plainAuth: false,
        plainEtrn: true,
        plainLogin: 'not offered',
        tlsAuth: 'PLAIN LOGIN',
        tlsLogin: 'accepted',
      });
    },
  );

  test('with auth.allowPlaintext EHLO lists AUTH in clear and AUTH PLAIN succeeds without TLS', async () => {
    const { dialog } = await SmtpDialog.open(plaintext);
    const ehlo = await dialog.send('EHLO client.test');
    assert.match(ehlo.text, /^AUTH PLAIN LOGIN$/m);
    assert.doesNotMatch(ehlo.text, /STARTTLS/);
    const plain = Buffer.from('\0alice\0correct horse').toString('base64');
    assert.match((await dialog.send(`AUTH PLAIN ${plain}`)).lines[0] ?? '', /^235 2\.7\.0 /);
    await dialog.quit();
  });

  test('EHLO lists ETRN where relay.etrn holds the client and not elsewhere; ETRN still answers 458 there', async () => {
    const yes = await SmtpDialog.open(secure);
    assert.match((await yes.dialog.send('EHLO client.test')).text, /^ETRN$/m);
    assert.match((await yes.dialog.send('ETRN held.example')).lines[0] ?? '', /^25[01] 2\.0\.0 /);
    await yes.dialog.quit();
    const no = await SmtpDialog.open(noEtrn);
    assert.doesNotMatch((await no.dialog.send('EHLO client.test')).text, /ETRN/);
    assert.match((await no.dialog.send('ETRN held.example')).lines[0] ?? '', /^458 4\.7\.1 /);
    await no.dialog.quit();
  });

  test(
    'Received names the virtual server that received the message, ESMTPSA and the TLS cipher, not the delivering one',
    { skip: !hasSwaks && 'swaks is not installed' },
    async () => {
      const r = spawnSync(
        'swaks',
        [
          ...['--server', `127.0.0.1:${secure}`, '--tls', '--ehlo', 'client.ehlo.test'],
          ...['--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'correct horse'],
          ...['--from', 'alice@ehlo.test', '--to', 'bob@far.example', '--h-Subject', 'received'],
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const [msg] = await sink.waitForMessages(1, 20_000);
      assert.equal(msg?.clientHostname, 'mail.ehlo.test', 'delivered by the other virtual server');
      const received = /^Received: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*/.exec(
        msg?.raw.toString('latin1') ?? '',
      )?.[0];
      assert.match(
        received ?? '',
        /^Received: from client\.ehlo\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+\)\r\n\tby secure\.ehlo\.test \(mailbus\) with ESMTPSA id [0-9A-Z]+\r\n\tfor <bob@far\.example>; /,
      );
    },
  );
});
