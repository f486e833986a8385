import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './load-config.js';
import { testErrorCases, type ErrorCase } from '../test/error-cases.js';
import { yamlWith } from '../test/yaml-with.js';

const isp = 'smartHosts: [relay.isp.example]\naddressSpaces: [{ domain: "*" }]';
const basic = 'outboundSecurity: { auth: basic, username: contoso, passwordEnv: ISP_PASSWORD }';
const withAuth = (yaml: string) =>
  yaml.replace('listen: "10.0.0.1:25"', 'listen: "10.0.0.1:25", auth: { usersFile: users.passwd }');

/** Each case: a connector and the exact path of every error, with a pattern its reason must match. */
const cases: ErrorCase[] = [
  {
    name: 'the DESIGN 8 ISP connector (etrn, different server, schedule) is valid',
    yaml: yamlWith(
      `${isp}\n${basic}\nadvanced: { request: etrn, domains: [contoso.com], server: mx2.isp.example, schedule: "every 2h" }`,
    ),
    errors: [],
  },
  {
    name: 'request: turn with basic authentication is valid',
    yaml: yamlWith(`${isp}\n${basic}\nadvanced: { request: turn, domains: [contoso.com] }`),
    errors: [],
  },
  {
    name: 'request: turn with ntlm authentication is valid',
    yaml: yamlWith(
      `${isp}\noutboundSecurity: { auth: ntlm, username: 'CONTOSO\\\\gw', passwordFile: /run/secrets/isp }\nadvanced: { request: turn }`,
    ),
    errors: [],
  },
  {
    name: 'HELO mode with request: etrn is an error quoting the seed',
    yaml: yamlWith(
      `${isp}\nheloInsteadOfEhlo: true\nadvanced: { request: etrn, domains: [contoso.com] }`,
    ),
    errors: [
      [
        'connectors[0].advanced.request',
        /heloInsteadOfEhlo.*cannot use TURN commands or ETRN commands/,
      ],
    ],
  },
  {
    name: 'HELO mode with request: turn is an error',
    yaml: yamlWith(`${isp}\n${basic}\nheloInsteadOfEhlo: true\nadvanced: { request: turn }`),
    errors: [['connectors[0].advanced.request', /HELO commands/]],
  },
  {
    name: 'HELO mode without a request is fine',
    yaml: yamlWith(`${isp}\nheloInsteadOfEhlo: true\nadvanced: { request: none }`),
    errors: [],
  },
  {
    name: 'request: turn without outbound authentication names the seed rule',
    yaml: yamlWith(`${isp}\nadvanced: { request: turn, domains: [contoso.com] }`),
    errors: [['connectors[0].advanced.request', /you must use authentication.*basic or ntlm/]],
  },
  {
    name: 'request: etrn needs domains',
    yaml: yamlWith(`${isp}\nadvanced: { request: etrn }`),
    errors: [['connectors[0].advanced.domains', /Issue ETRN/]],
  },
  {
    name: 'an ETRN domain must be a domain name',
    yaml: yamlWith(`${isp}\nadvanced: { request: etrn, domains: [contoso.com, "*.contoso.com"] }`),
    errors: [['connectors[0].advanced.domains[1]', /not a domain name/]],
  },
  {
    name: 'the different server uses smart-host syntax (IP in brackets)',
    yaml: yamlWith(
      `${isp}\nadvanced: { request: etrn, domains: [contoso.com], server: "192.0.2.9", schedule: always }`,
    ),
    errors: [['connectors[0].advanced.server', /brackets: "\[192\.0\.2\.9\]"/]],
  },
  {
    name: 'the different server must be a FQDN',
    yaml: yamlWith(
      `${isp}\nadvanced: { request: etrn, domains: [contoso.com], server: mx2, schedule: always }`,
    ),
    errors: [['connectors[0].advanced.server', /not a fully qualified domain name/]],
  },
  {
    name: 'a bracketed IP with a port is a valid different server',
    yaml: yamlWith(
      `${isp}\nadvanced: { request: etrn, domains: [contoso.com], server: "[192.0.2.9]:2525", schedule: ["Mon-Fri 08:00-09:00"] }`,
    ),
    errors: [],
  },
  {
    name: 'the different server needs a connection time',
    yaml: yamlWith(
      `${isp}\nadvanced: { request: etrn, domains: [contoso.com], server: mx2.isp.example }`,
    ),
    errors: [['connectors[0].advanced.schedule', /needs a schedule/]],
  },
  {
    name: 'a connection time needs a server',
    yaml: yamlWith(
      `${isp}\nadvanced: { request: etrn, domains: [contoso.com], schedule: "every 2h" }`,
    ),
    errors: [['connectors[0].advanced.schedule', /needs advanced\.server/]],
  },
  {
    name: 'the different server needs a request',
    yaml: yamlWith(`${isp}\nadvanced: { server: mx2.isp.example, schedule: "every 2h" }`),
    errors: [['connectors[0].advanced.server', /request: etrn or turn/]],
  },
  {
    name: 'the connection time is in the delivery schedule grammar',
    yaml: yamlWith(
      `${isp}\nadvanced: { request: etrn, domains: [contoso.com], server: mx2.isp.example, schedule: "Mon-Fri 25:00-26:00" }`,
    ),
    errors: [['connectors[0].advanced.schedule', /25:00/]],
  },
  {
    name: 'an unknown request is refused',
    yaml: yamlWith(`${isp}\nadvanced: { request: finger }`),
    errors: [['connectors[0].advanced.request', /etrn/]],
  },
  {
    name: 'trigger accounts of a remote-triggered connector on a server with AUTH are valid',
    yaml: withAuth(
      yamlWith(`${isp}\ndelivery: { remoteTriggered: true, triggerAccounts: [branch] }`),
    ),
    errors: [],
  },
  {
    name: 'trigger accounts need remoteTriggered',
    yaml: withAuth(yamlWith(`${isp}\ndelivery: { triggerAccounts: [branch] }`)),
    errors: [['connectors[0].delivery.triggerAccounts', /remoteTriggered: true/]],
  },
  {
    name: 'trigger accounts need a virtual server with AUTH',
    yaml: yamlWith(`${isp}\ndelivery: { remoteTriggered: true, triggerAccounts: [branch] }`),
    errors: [['connectors[0].delivery.triggerAccounts', /auth\.usersFile/]],
  },
  {
    name: 'trigger accounts with HELO mode are an error quoting the seed',
    yaml: withAuth(
      yamlWith(
        `${isp}\nheloInsteadOfEhlo: true\ndelivery: { remoteTriggered: true, triggerAccounts: [branch] }`,
      ),
    ),
    errors: [['connectors[0].delivery.triggerAccounts', /you cannot use TURN commands/]],
  },
  {
    name: 'auth: ntlm needs a username and a password source, like basic',
    yaml: yamlWith(`${isp}\noutboundSecurity: { auth: ntlm }`),
    errors: [
      ['connectors[0].outboundSecurity.username', /auth: ntlm needs a username/],
      ['connectors[0].outboundSecurity', /auth: ntlm needs passwordEnv or passwordFile/],
    ],
  },
];

describe('config validation: the Advanced tab (DESIGN 8)', () => {
  testErrorCases(cases);

  const triggered = withAuth(
    yamlWith(`${isp}\ndelivery: { remoteTriggered: true, triggerAccounts: [branch, ghost] }`),
  );

  test('a trigger account that is no user of the users file is an error naming it and the file', () => {
    const r = parseConfig(triggered, { userNames: () => ['branch', 'alice'] });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => e.path),
      ['connectors[0].delivery.triggerAccounts[1]'],
    );
    assert.match(r.errors[0]?.reason ?? '', /"ghost" is not a user of .*users\.passwd/);
  });

  test('an unreadable users file is named in the error', () => {
    const r = parseConfig(triggered, { userNames: () => undefined });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors.length, 2);
    assert.match(r.errors[0]?.reason ?? '', /cannot read users\.passwd/);
  });

  test('every trigger account in the users file: valid', () => {
    const r = parseConfig(triggered, { userNames: () => ['ghost', 'branch'] });
    assert.ok(r.ok);
  });

  test('defaults: request none, no domains, no trigger accounts', () => {
    const r = parseConfig(yamlWith(isp));
    assert.ok(r.ok);
    if (!r.ok) return;
    const c = r.config.connectors[0];
    assert.deepEqual(c?.advanced, { request: 'none', domains: [] });
    assert.deepEqual(c?.delivery.triggerAccounts, []);
  });
});
