import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailbus, workDir } from './mailbus-process.js';

test('`mailbus config check`: siteTrust: authenticated with no way to authenticate, and a client certificate without its key or with tls: none, each named by path; exit 1', () => {
  const { config } = workDir(`
virtualServers:
  - { name: boston-gw, fqdn: boston-gw.contoso.com, siteTrust: authenticated }
connectors:
  - { name: A, bridgeheads: [boston-gw], smartHosts: ["[10.1.0.5]"], addressSpaces: [{ domain: "*" }], outboundSecurity: { clientCert: /etc/mailbus/a.crt } }
  - { name: B, bridgeheads: [boston-gw], smartHosts: ["[10.1.0.6]"], addressSpaces: [{ domain: "*.net" }], outboundSecurity: { tls: none, clientCert: /etc/mailbus/b.crt, clientKey: /etc/mailbus/b.key } }
`);
  const r = mailbus(['config', 'check', '--config', config]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n');
  const expected = [
    /^virtualServers\[0\]\.siteTrust: siteTrust: authenticated needs a way for the other sites to authenticate: auth\.usersFile or tls\.clientCa .*\[MAILBUS_ERR_CONFIG_RULE\]$/,
    /^connectors\[0\]\.outboundSecurity\.clientKey: clientCert and clientKey go together .*\[MAILBUS_ERR_CONFIG_RULE\]$/,
    /^connectors\[1\]\.outboundSecurity\.clientCert: a client certificate is presented in TLS: it needs tls: required or opportunistic, not none \[MAILBUS_ERR_CONFIG_RULE\]$/,
  ];
  assert.equal(lines.length, expected.length, r.stderr);
  expected.forEach((re, i) => assert.match(lines[i] ?? '', re));
});

test('`mailbus config check`: siteTrust: authenticated with tls.clientCa passes', () => {
  const { config } = workDir(`
virtualServers:
  - { name: boston-gw, fqdn: boston-gw.contoso.com, siteTrust: authenticated, tls: { cert: /etc/mailbus/gw.crt, key: /etc/mailbus/gw.key, clientCa: /etc/mailbus/ca.crt } }
connectors:
  - { name: A, bridgeheads: [boston-gw], smartHosts: ["[10.1.0.5]"], addressSpaces: [{ domain: "*" }], outboundSecurity: { tls: required, clientCert: /etc/mailbus/a.crt, clientKey: /etc/mailbus/a.key } }
`);
  const r = mailbus(['config', 'check', '--config', config]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
