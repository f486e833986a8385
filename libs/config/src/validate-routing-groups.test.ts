import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';
import { testErrorCases, type ErrorCase } from '../test/error-cases.js';
import { siteRedis } from './site-redis.js';

/** The two-site organisation of DESIGN section 7, with `extra` connector lines appended. */
function sites(extra = '', groups = ''): string {
  return `
routingGroups:
${
  groups ||
  `  - { name: Paris, redis: { url: "redis://127.0.0.1:7001" } }
  - { name: Boston }`
}
recipientPolicies:
  - { domain: paris.contoso.com, routingGroup: Paris, mailboxHosts: ["[10.1.0.5]"] }
  - { domain: boston.contoso.com, routingGroup: Boston, mailboxHosts: ["[10.2.0.5]"] }
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.com, listen: "127.0.0.1:2601" }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.com, listen: "127.0.0.1:2602" }
connectors:
  - name: Paris-Boston
    bridgeheads: [paris-gw]
    smartHosts: ["[127.0.0.1]:2602"]
    connectedRoutingGroups: [{ name: Boston, cost: 10 }]
  - name: Boston-Paris
    bridgeheads: [boston-gw]
    smartHosts: [paris-gw.contoso.com]
    connectedRoutingGroups: [{ name: Paris, cost: 10 }]
  - { name: Internet, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*" }] }
${extra}`;
}

const cases: ErrorCase[] = [
  {
    name: 'the two-site organisation of DESIGN 7 is valid (smart hosts of the other site are no loop)',
    yaml: sites(),
    errors: [],
  },
  {
    name: 'a connected routing group that does not exist is an error',
    yaml: sites(
      '  - { name: X, bridgeheads: [paris-gw], dns: true, connectedRoutingGroups: [{ name: Tokyo }] }',
    ),
    errors: [
      [
        'connectors[3].connectedRoutingGroups[0].name',
        /"Tokyo" is not in routingGroups \(Paris, Boston\)/,
      ],
    ],
  },
  {
    name: 'a connector connecting its own routing group to itself is an error',
    yaml: sites(
      '  - { name: X, bridgeheads: [paris-gw], dns: true, connectedRoutingGroups: [{ name: Paris }] }',
    ),
    errors: [
      ['connectors[3].connectedRoutingGroups[0].name', /connector's own routing group.*itself/],
    ],
  },
  {
    name: 'a routing-group connector whose bridgeheads are in two groups is an error',
    yaml: sites(
      '  - { name: X, bridgeheads: [paris-gw, boston-gw], smartHosts: [relay.example.com], connectedRoutingGroups: [{ name: Boston }] }',
    ),
    errors: [
      [
        'connectors[3].bridgeheads',
        /bridgeheads in one routing group, but they are in Paris and Boston/,
      ],
    ],
  },
  {
    name: 'a recipient policy in an unknown routing group is an error',
    yaml: sites().replace(
      'routingGroup: Boston, mailboxHosts',
      'routingGroup: Bostn, mailboxHosts',
    ),
    errors: [['recipientPolicies[1].routingGroup', /"Bostn" is not in routingGroups/]],
  },
  {
    name: 'a connected-group cost outside 1-100 is an error',
    yaml: sites().replace('{ name: Boston, cost: 10 }', '{ name: Boston, cost: 101 }'),
    errors: [['connectors[0].connectedRoutingGroups[0].cost', /cost 101 is outside 1-100/]],
  },
  {
    name: 'a connector with neither address spaces nor connected groups is an error',
    yaml: sites('  - { name: X, bridgeheads: [paris-gw], dns: true }'),
    errors: [
      ['connectors[3].addressSpaces', /needs addressSpaces unless it lists connectedRoutingGroups/],
    ],
  },
  {
    name: "a smart host of the connector's own site is still a loop",
    yaml: sites().replace('smartHosts: ["[127.0.0.1]:2602"]', 'smartHosts: ["[127.0.0.1]:2601"]'),
    errors: [['connectors[0].smartHosts[0]', /own address or FQDN/]],
  },
  {
    name: 'an unknown key in a routing group is an error',
    yaml: sites('', '  - { name: Paris, colour: blue }\n  - Boston'),
    errors: [['routingGroups[0].colour', /^unknown key$/]],
  },
];

describe('routing groups as sites: config validation', () => {
  testErrorCases(cases);

  test('a routing group no connector path reaches is a warning, not an error', () => {
    const r = parseConfig(sites().replace(/ {2}- name: Boston-Paris\n(?: {4}.*\n){3}/, ''));
    assert.ok(r.ok, r.ok ? '' : r.errors.map(formatConfigError).join('\n'));
    assert.deepEqual(r.warnings.map(formatConfigError), [
      'routingGroups[1]: routing group Boston cannot reach Paris over connectors with connectedRoutingGroups: mail from Boston for mailboxes or connectors there is rejected',
    ]);
  });

  test('groups as plain labels (no connectedRoutingGroups) give no warning', () => {
    const r = parseConfig(`
routingGroups: [first, second]
virtualServers:
  - { name: a, fqdn: a.contoso.com, routingGroup: first }
  - { name: b, fqdn: b.contoso.com, routingGroup: second, listen: "0.0.0.0:2525" }
connectors:
  - { name: X, dns: true, bridgeheads: [a], addressSpaces: [{ domain: "*" }] }
`);
    assert.ok(r.ok);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.routingGroups, [{ name: 'first' }, { name: 'second' }]);
  });

  test("each virtual server uses its routing group's Redis, else the top-level one", () => {
    const r = parseConfig(sites(), { env: { MAILBUS_REDIS_URL: 'redis://127.0.0.1:7002' } });
    assert.ok(r.ok);
    assert.equal(siteRedis(r.config, 'paris-gw').url, 'redis://127.0.0.1:7001');
    assert.equal(siteRedis(r.config, 'PARIS-GW').url, 'redis://127.0.0.1:7001');
    assert.equal(siteRedis(r.config, 'boston-gw').url, 'redis://127.0.0.1:7002');
    assert.equal(siteRedis(r.config, undefined).url, 'redis://127.0.0.1:7002');
  });
});
