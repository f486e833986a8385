import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml } from '../test/config-from-yaml.js';
import { checkRelay } from './check-relay.js';

const config = configFromYaml(`
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]"] }
virtualServers:
  - name: default
    fqdn: mail.contoso.com
    relay: { allow: [127.0.0.0/8, 192.0.2.10, "2001:db8::/32", "::1"], allowAuthenticated: true }
  - name: strict
    fqdn: mx.contoso.com
    listen: 0.0.0.0:2525
    relay: { allow: [], allowAuthenticated: false }
connectors:
  - { name: Partner, dns: true, bridgeheads: [default], allowRelay: true, addressSpaces: [{ domain: "*.partner.example" }, { domain: partner.example }] }
  - { name: Internet, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
const openRelay = configFromYaml(`
virtualServers: [{ name: default, fqdn: mail.contoso.com, relay: { allowAuthenticated: false } }]
connectors:
  - { name: Everything, dns: true, bridgeheads: [default], allowRelay: true, addressSpaces: [{ domain: "*" }] }
`);

const stranger = { clientIp: '203.0.113.9', authenticated: false };
const local = { clientIp: '127.0.0.1', authenticated: false };

const cases: Array<{
  name: string;
  vs?: string;
  client: { clientIp: string; authenticated: boolean };
  to: string;
  expect: boolean;
  config?: typeof config;
}> = [
  {
    name: 'anyone may send to an inbound domain',
    client: stranger,
    to: 'bob@contoso.com',
    expect: true,
  },
  {
    name: 'the inbound domain matches case-insensitively',
    client: stranger,
    to: 'bob@CONTOSO.COM',
    expect: true,
  },
  {
    name: 'a stranger may not relay to an outside domain',
    client: stranger,
    to: 'x@example.org',
    expect: false,
  },
  {
    name: 'a client in an allowed IPv4 range may relay anywhere',
    client: local,
    to: 'x@example.org',
    expect: true,
  },
  {
    name: 'a single allowed IPv4 address may relay',
    client: { clientIp: '192.0.2.10', authenticated: false },
    to: 'x@example.org',
    expect: true,
  },
  {
    name: 'the neighbour of a single allowed address may not relay',
    client: { clientIp: '192.0.2.11', authenticated: false },
    to: 'x@example.org',
    expect: false,
  },
  {
    name: 'an IPv4-mapped IPv6 client matches the IPv4 range',
    client: { clientIp: '::ffff:127.0.0.1', authenticated: false },
    to: 'x@example.org',
    expect: true,
  },
  {
    name: 'an IPv6 client in an allowed IPv6 range may relay',
    client: { clientIp: '2001:db8:1::25', authenticated: false },
    to: 'x@example.org',
    expect: true,
  },
  {
    name: 'IPv6 loopback listed as a single address may relay',
    client: { clientIp: '::1', authenticated: false },
    to: 'x@example.org',
    expect: true,
  },
  {
    name: 'an IPv6 client outside the ranges may not relay',
    client: { clientIp: '2001:db9::1', authenticated: false },
    to: 'x@example.org',
    expect: false,
  },
  {
    name: 'an authenticated client may relay when allowAuthenticated',
    client: { clientIp: '203.0.113.9', authenticated: true },
    to: 'x@example.org',
    expect: true,
  },
  {
    name: 'an authenticated client may not relay when allowAuthenticated is off',
    vs: 'strict',
    client: { clientIp: '203.0.113.9', authenticated: true },
    to: 'x@example.org',
    expect: false,
  },
  {
    name: 'the IP list is per virtual server',
    vs: 'strict',
    client: local,
    to: 'x@example.org',
    expect: false,
  },
  {
    name: 'anyone may relay to an exact address space of an allowRelay connector',
    client: stranger,
    to: 'x@partner.example',
    expect: true,
  },
  {
    name: 'anyone may relay to a wildcard address space of an allowRelay connector',
    client: stranger,
    to: 'x@a.partner.example',
    expect: true,
  },
  {
    name: 'address spaces of connectors without allowRelay do not open relay',
    client: stranger,
    to: 'x@fabrikam.example',
    expect: false,
  },
  {
    name: 'allowRelay on * relays every well-formed domain',
    config: openRelay,
    client: stranger,
    to: 'x@example.org',
    expect: true,
  },
  // open-relay probes
  {
    name: 'a % hop through an inbound domain is not relayed',
    client: stranger,
    to: 'victim%example.org@contoso.com',
    expect: false,
  },
  {
    name: 'a ! bang path through an inbound domain is not relayed',
    client: stranger,
    to: 'example.org!victim@contoso.com',
    expect: false,
  },
  {
    name: 'a quoted user@other through an inbound domain is not relayed',
    client: stranger,
    to: '"victim@example.org"@contoso.com',
    expect: false,
  },
  {
    name: 'a source route through an inbound domain is not relayed',
    client: stranger,
    to: '@contoso.com:victim@example.org',
    expect: false,
  },
  {
    name: 'a source route ending in an inbound domain is not relayed',
    client: stranger,
    to: '@example.org:victim@contoso.com',
    expect: false,
  },
  {
    name: 'an IP-literal domain is not relayed by allowRelay on *',
    config: openRelay,
    client: stranger,
    to: 'victim@[192.0.2.1]',
    expect: false,
  },
  {
    name: 'a % hop through an allowRelay domain is not relayed',
    client: stranger,
    to: 'victim%example.org@partner.example',
    expect: false,
  },
  {
    name: 'a trusted client may still send a % address',
    client: local,
    to: 'victim%example.org@contoso.com',
    expect: true,
  },
  {
    name: 'an authenticated client may still send to an IP literal',
    client: { clientIp: '203.0.113.9', authenticated: true },
    to: 'x@[192.0.2.1]',
    expect: true,
  },
  {
    name: 'an unknown virtual server relays only inbound domains',
    vs: 'nope',
    client: local,
    to: 'x@example.org',
    expect: false,
  },
];

describe('checkRelay', () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(checkRelay(c.config ?? config, c.vs ?? 'default', c.client, c.to), c.expect);
    });
  }
});
