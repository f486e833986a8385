import { describe } from 'node:test';
import { testErrorCases, type ErrorCase } from '../test/error-cases.js';

/** One virtual server with `vs` appended to its entry, one connector with `sec` as its outboundSecurity. */
function config(vs: string, sec = '{}'): string {
  return `
virtualServers:
  - { name: boston-gw, fqdn: boston-gw.contoso.com${vs} }
connectors:
  - { name: Paris, bridgeheads: [boston-gw], smartHosts: ["[10.1.0.5]"], addressSpaces: [{ domain: "*" }], outboundSecurity: ${sec} }
`;
}

const tls = ', tls: { cert: /etc/mailbus/gw.crt, key: /etc/mailbus/gw.key';

const cases: ErrorCase[] = [
  { name: 'siteTrust defaults to relay: no new key is needed', yaml: config(''), errors: [] },
  {
    name: 'siteTrust: authenticated with auth.usersFile is valid',
    yaml: config(', siteTrust: authenticated, auth: { usersFile: /etc/mailbus/users }'),
    errors: [],
  },
  {
    name: 'siteTrust: authenticated with tls.clientCa is valid',
    yaml: config(`, siteTrust: authenticated${tls}, clientCa: /etc/mailbus/sites-ca.crt }`),
    errors: [],
  },
  {
    name: 'siteTrust: authenticated without AUTH or client certificates is an error',
    yaml: config(`, siteTrust: authenticated${tls} }`),
    errors: [['virtualServers[0].siteTrust', /needs a way .* auth\.usersFile or tls\.clientCa/]],
  },
  {
    name: 'siteTrust takes relay or authenticated only',
    yaml: config(', siteTrust: everyone'),
    errors: [['virtualServers[0].siteTrust', /relay|authenticated/]],
  },
  {
    name: 'a client certificate with its key is valid',
    yaml: config(
      '',
      '{ tls: required, clientCert: /etc/mailbus/paris.crt, clientKey: /etc/mailbus/paris.key }',
    ),
    errors: [],
  },
  {
    name: 'a client certificate without its key is an error',
    yaml: config('', '{ tls: required, clientCert: /etc/mailbus/paris.crt }'),
    errors: [['connectors[0].outboundSecurity.clientKey', /clientCert and clientKey go together/]],
  },
  {
    name: 'a client key without its certificate is an error',
    yaml: config('', '{ tls: required, clientKey: /etc/mailbus/paris.key }'),
    errors: [['connectors[0].outboundSecurity.clientCert', /clientCert and clientKey go together/]],
  },
  {
    name: 'a client certificate with tls: none is an error',
    yaml: config(
      '',
      '{ tls: none, clientCert: /etc/mailbus/paris.crt, clientKey: /etc/mailbus/paris.key }',
    ),
    errors: [['connectors[0].outboundSecurity.clientCert', /needs tls: required or opportunistic/]],
  },
];

describe('config: how sites authenticate (siteTrust, tls.clientCa, outboundSecurity.clientCert)', () => {
  testErrorCases(cases);
});
