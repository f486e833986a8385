import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  makeMessage,
  RedisServer,
  sendMail,
  SinkServer,
  waitFor,
} from '@mailbus/testing';
import { MailbusProcess } from './support/mailbus-process.js';
import { contosoGatewayYaml } from './support/contoso-gateway.js';
import { protocolLog } from './support/protocol-log-files.js';
import { hasPostfix, PostfixNextHop } from './support/postfix-next-hop.js';

const hasCyrusNtlm =
  existsSync('/usr/sbin/saslpasswd2') &&
  ['/usr/lib/x86_64-linux-gnu/sasl2', '/usr/lib/aarch64-linux-gnu/sasl2', '/usr/lib/sasl2'].some(
    (d) => existsSync(join(d, 'libntlm.so')),
  );

/**
 * "Integrated Windows Authentication" (`outboundSecurity.auth: ntlm`) against
 * a real server that checks the NTLM response: a private Postfix whose
 * smtpd offers only AUTH NTLM through Cyrus SASL's NTLM plugin, the password
 * in a sasldb. Cyrus recomputes the NTLMv2 proof (HMAC-MD5 keyed with the
 * password's NT hash) and compares; relaying needs the authentication
 * (mynetworks does not include the client). The password reaches mailbus
 * through passwordEnv only.
 */
describe(
  'outboundSecurity.auth: ntlm against Postfix with Cyrus SASL NTLM',
  { skip: (!hasPostfix || !hasCyrusNtlm) && 'needs root, Postfix, sasl2-bin and libsasl2-modules' },
  () => {
    let redis: RedisServer;
    let isp: PostfixNextHop;
    let gateway: MailbusProcess | undefined;
    let smtp: number;
    const sasl = mkdtempSync(join(tmpdir(), 'mailbus-sasl-'));
    let db = '';
    const logs = mkdtempSync(join(tmpdir(), 'mailbus-ntlm-logs-'));

    before(async () => {
      redis = await RedisServer.start();
      smtp = await freePort();
      chmodSync(sasl, 0o755);
      db = join(sasl, 'sasldb2');
      execFileSync('saslpasswd2', ['-f', db, '-c', '-p', '-u', 'isp.test', 'contoso'], {
        input: 'Ntlm-s3cret',
      });
      const pf = execFileSync('getent', ['passwd', 'postfix']).toString().split(':');
      for (const f of readdirSync(sasl)) chownSync(join(sasl, f), Number(pf[2]), Number(pf[3]));
      isp = await PostfixNextHop.start({
        main: [
          'mynetworks = 127.0.0.2/32',
          'smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination',
          'smtpd_sasl_auth_enable = yes',
          'smtpd_sasl_type = cyrus',
          'smtpd_sasl_path = smtpd',
          'smtpd_sasl_local_domain = isp.test',
          'smtpd_sasl_security_options = noanonymous',
        ],
      });
      // Debian's smtpd reads its Cyrus configuration from $config_directory/sasl/smtpd.conf
      // (cyrus_sasl_config_path is not honoured), at its first connection.
      mkdirSync(join(isp.dir, 'etc', 'sasl'));
      writeFileSync(
        join(isp.dir, 'etc', 'sasl', 'smtpd.conf'),
        `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: NTLM\nsasldb_path: ${db}\n`,
      );
    });

    afterEach(async () => {
      await gateway?.close();
      gateway = undefined;
      isp.flush();
    });

    after(async () => {
      await isp?.close();
      await redis?.close();
    });

    const config = (passwordEnv: string) =>
      contosoGatewayYaml({
        redisUrl: redis.url,
        smtp,
        logs,
        isp: [
          `smartHosts: ["[127.0.0.1]:${isp.port}"]`,
          'bridgeheads: [gw]',
          'addressSpaces: [{ domain: outside.test }]',
          `outboundSecurity: { tls: none, auth: ntlm, username: 'CONTOSO\\contoso', passwordEnv: ${passwordEnv} }`,
        ],
      });

    test('AUTH NTLM with an NTLMv2 response: Postfix authenticates the account and relays the message', async () => {
      gateway = await MailbusProcess.start(config('ISP_PASSWORD'), {
        listening: [`127.0.0.1:${smtp}`],
        env: { ISP_PASSWORD: 'Ntlm-s3cret' },
      });
      await sendMail({
        port: smtp,
        from: 'alice@contoso.test',
        to: ['dave@outside.test'],
        raw: makeMessage({ from: 'alice@contoso.test', to: 'dave@outside.test', subject: 'ntlm' }),
      });
      await waitFor(() => isp.held().length === 1, {
        timeoutMs: 30_000,
        what: `Postfix relays the message (log: ${isp.log()}; mailbus: ${gateway.output}; protocol log: ${protocolLog(logs)})`,
      });
      const [held] = await isp.waitForHeld(1);
      assert.match(held?.content ?? '', /Subject: ntlm/);
      assert.match(isp.log(), /sasl_method=NTLM, sasl_username=contoso@isp\.test/);
      const log = protocolLog(logs);
      assert.match(log, /OutboundConnectionCommand[^\r\n]* AUTH NTLM\+\*\*\*\* /);
      assert.match(log, /OutboundConnectionResponse[^\r\n]* 235 /);
      assert.doesNotMatch(log, /Ntlm-s3cret/);
      assert.doesNotMatch(readFileSync(join(gateway.dir, 'mailbus.yaml'), 'utf8'), /Ntlm-s3cret/);
    });

    test('a wrong password: Postfix refuses the NTLM response (535), nothing is relayed, the message stays queued', async () => {
      gateway = await MailbusProcess.start(config('WRONG_PASSWORD'), {
        listening: [`127.0.0.1:${smtp}`],
        env: { WRONG_PASSWORD: 'not-the-password' },
      });
      await sendMail({
        port: smtp,
        from: 'alice@contoso.test',
        to: ['erin@outside.test'],
        raw: makeMessage({ from: 'alice@contoso.test', to: 'erin@outside.test', subject: 'nope' }),
      });
      await waitFor(() => /SASL NTLM authentication failed/.test(isp.log()), {
        timeoutMs: 30_000,
        what: `Postfix refuses the NTLM response (log: ${isp.log()})`,
      });
      await waitFor(() => / 535 /.test(protocolLog(logs)), {
        timeoutMs: 10_000,
        what: '535 in the protocol log',
      });
      assert.equal(isp.held().length, 0);
    });
  },
);

describe('outboundSecurity.auth: ntlm toward a server without NTLM', () => {
  test('AUTH NTLM is refused: the delivery is deferred with the reply, never sent without AUTH', async () => {
    const redis = await RedisServer.start();
    const sink = await SinkServer.start({ auth: { user: 'contoso', pass: 'pw' } });
    const smtp = await freePort();
    const gateway = await MailbusProcess.start(
      `
redis: { url: "${redis.url}" }
virtualServers:
  - name: gw
    listen: "127.0.0.1:${smtp}"
    fqdn: gw.contoso.test
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Plain
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [gw]
    addressSpaces: [{ domain: outside.test }]
    outboundSecurity: { tls: none, auth: ntlm, username: contoso, passwordEnv: PW }
`,
      { listening: [`127.0.0.1:${smtp}`], env: { PW: 'pw' } },
    );
    try {
      await sendMail({
        port: smtp,
        from: 'alice@contoso.test',
        to: ['dave@outside.test'],
        raw: makeMessage({ from: 'alice@contoso.test', to: 'dave@outside.test', subject: 'x' }),
      });
      await waitFor(() => /"status":"deferred"/.test(gateway.output), {
        timeoutMs: 30_000,
        what: `the delivery deferred (output: ${gateway.output})`,
      });
      assert.match(
        gateway.output,
        /"status":"deferred","reply":"504 5\.5\.4 Error: Unrecognized authentication type"/,
      );
      assert.equal(sink.messages.length, 0);
    } finally {
      await gateway.close();
      await sink.close();
      await redis.close();
    }
  });
});
