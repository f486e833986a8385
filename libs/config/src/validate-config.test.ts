import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';
import { testErrorCases, type ErrorCase } from '../test/error-cases.js';
import { yamlWith } from '../test/yaml-with.js';

const star = 'addressSpaces: [{ domain: "*" }]';

/** Each case: a config and the exact path of every error, with a pattern its reason must match. */
const cases: ErrorCase[] = [
  // smart hosts
  {
    name: 'a bare smart host IP must be in brackets',
    yaml: yamlWith(`smartHosts: [192.0.2.1]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /must be written in brackets: "\[192\.0\.2\.1\]"/]],
  },
  {
    name: 'a bare smart host IP with a port must be in brackets',
    yaml: yamlWith(`smartHosts: [relay.isp.example, "192.0.2.1:587"]\n${star}`),
    errors: [['connectors[0].smartHosts[1]', /brackets: "\[192\.0\.2\.1\]:587"/]],
  },
  {
    name: 'a bare IPv6 smart host must be in brackets',
    yaml: yamlWith(`smartHosts: ["2001:db8::1"]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /brackets/]],
  },
  {
    name: 'a smart host name must be a FQDN',
    yaml: yamlWith(`smartHosts: [relay]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /"relay" is not a fully qualified domain name/]],
  },
  {
    name: 'a bracketed smart host must be an IP address',
    yaml: yamlWith(`smartHosts: ["[relay.example.com]"]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /not an IP address/]],
  },
  {
    name: 'a smart host port must be 1-65535',
    yaml: yamlWith(`smartHosts: ["relay.example.com:70000"]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /port "70000"/]],
  },
  {
    name: 'a smart host equal to the virtual server FQDN would loop',
    yaml: yamlWith(`smartHosts: [Mail.Contoso.com]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /own address or FQDN \(mail\.contoso\.com\).*loop/]],
  },
  {
    name: 'a smart host equal to the virtual server listen address would loop',
    yaml: yamlWith(`smartHosts: ["[10.0.0.1]"]\n${star}`),
    errors: [['connectors[0].smartHosts[0]', /own address or FQDN \(\[10\.0\.0\.1\]:25\)/]],
  },
  {
    name: 'the same IP on another port is not the virtual server',
    yaml: yamlWith(`smartHosts: ["[10.0.0.1]:587"]\n${star}`),
    errors: [],
  },
  {
    name: 'loopback on the port of a wildcard listen is the virtual server',
    yaml: yamlWith(`smartHosts: ["[127.0.0.1]"]\n${star}`, 'routingGroups: [first]').replace(
      '10.0.0.1:25',
      '0.0.0.0:25',
    ),
    errors: [['connectors[0].smartHosts[0]', /own address/]],
  },
  {
    name: 'an inherited smart host equal to the FQDN is reported at the virtual server',
    yaml: yamlWith(star).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", outbound: { smartHost: mail.contoso.com }',
    ),
    errors: [['virtualServers[0].outbound.smartHost', /own address/]],
  },
  {
    name: 'a virtual server smart host must be valid',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", outbound: { smartHost: "192.0.2.7" }',
    ),
    errors: [['virtualServers[0].outbound.smartHost', /brackets/]],
  },
  {
    name: 'a connector with neither smartHosts nor dns and nothing to inherit is an error',
    yaml: yamlWith(star),
    errors: [
      [
        'connectors[0].smartHosts',
        /needs smartHosts or dns: true .*default has no outbound\.smartHost/,
      ],
    ],
  },
  {
    name: 'an empty smartHosts list counts as none',
    yaml: yamlWith(`smartHosts: []\n${star}`),
    errors: [['connectors[0].smartHosts', /needs smartHosts or dns: true/]],
  },
  {
    name: 'smartHosts and dns: true together are an error',
    yaml: yamlWith(`dns: true\nsmartHosts: [relay.example.com]\n${star}`),
    errors: [['connectors[0].dns', /either smartHosts or dns/]],
  },
  // address spaces
  {
    name: 'cost 0 is outside 1-100',
    yaml: yamlWith('dns: true\naddressSpaces: [{ domain: "*", cost: 0 }]'),
    errors: [['connectors[0].addressSpaces[0].cost', /cost 0 is outside 1-100/]],
  },
  {
    name: 'cost 101 is outside 1-100',
    yaml: yamlWith('dns: true\naddressSpaces: [{ domain: "*" }, { domain: "*.net", cost: 101 }]'),
    errors: [['connectors[0].addressSpaces[1].cost', /cost 101 is outside 1-100/]],
  },
  {
    name: 'costs 1 and 100 are fine',
    yaml: yamlWith(
      'dns: true\naddressSpaces: [{ domain: "*", cost: 1 }, { domain: "*.net", cost: 100 }]',
    ),
    errors: [],
  },
  {
    name: 'an address space must be a domain, *.domain or *',
    yaml: yamlWith('dns: true\naddressSpaces: [{ domain: "a.*.com" }]'),
    errors: [['connectors[0].addressSpaces[0].domain', /not a domain, \*\.domain or \*/]],
  },
  {
    name: 'an inbound domain as an address space explains the 5.3.5 mail loop',
    yaml: yamlWith('dns: true\naddressSpaces: [{ domain: "*" }, { domain: Contoso.COM }]'),
    errors: [['connectors[0].addressSpaces[1].domain', /inbound domain.*mail loop.*5\.3\.5/]],
  },
  {
    name: '* and *.contoso.com beside an inbound contoso.com are fine',
    yaml: yamlWith('dns: true\naddressSpaces: [{ domain: "*" }, { domain: "*.contoso.com" }]'),
    errors: [],
  },
  // sizes
  {
    name: 'an oversize threshold above the connector maxSizeKB is an error',
    yaml: yamlWith(
      `dns: true\n${star}\ncontentRestrictions: { maxSizeKB: 1000 }\ndelivery: { oversize: { thresholdKB: 2000, schedule: always } }`,
    ),
    errors: [
      [
        'connectors[0].delivery.oversize.thresholdKB',
        /threshold 2000 KB is above the connector's maxSizeKB 1000/,
      ],
    ],
  },
  {
    name: 'an oversize threshold above the inherited maxSizeKB is an error',
    yaml: yamlWith(
      `dns: true\n${star}\ndelivery: { oversize: { thresholdKB: 20000, schedule: always } }`,
    ),
    errors: [['connectors[0].delivery.oversize.thresholdKB', /maxSizeKB 10240 \(inherited/]],
  },
  {
    name: 'an oversize threshold below maxSizeKB is fine',
    yaml: yamlWith(
      `dns: true\n${star}\ndelivery: { oversize: { thresholdKB: 2048, schedule: ["Mon-Sun 02:00-04:00"] } }`,
    ),
    errors: [],
  },
  // bridgeheads and scope
  {
    name: 'a bridgehead naming no virtual server is an error',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'bridgeheads: [default]',
      'bridgeheads: [default, nosuch]',
    ),
    errors: [
      ['connectors[0].bridgeheads[1]', /"nosuch" names no virtual server \(known: default\)/],
    ],
  },
  {
    name: 'scope routingGroup with bridgeheads in two routing groups is an error',
    yaml: `
routingGroups: [first, second]
virtualServers:
  - { name: a, fqdn: a.contoso.com, routingGroup: first }
  - { name: b, fqdn: b.contoso.com, routingGroup: second, listen: "0.0.0.0:2525" }
connectors:
  - { name: X, dns: true, bridgeheads: [a], scope: routingGroup, addressSpaces: [{ domain: "*" }] }
  - { name: Y, dns: true, bridgeheads: [a, b], scope: routingGroup, addressSpaces: [{ domain: "*" }] }
  - { name: Z, dns: true, bridgeheads: [a, b], addressSpaces: [{ domain: "*" }] }
`,
    errors: [['connectors[1].scope', /one routing group, but they are in first and second/]],
  },
  {
    name: 'a virtual server routing group must be listed in routingGroups',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", routingGroup: nowhere',
    ),
    errors: [['virtualServers[0].routingGroup', /"nowhere" is not in routingGroups \(first\)/]],
  },
  // names
  {
    name: 'duplicate connector names are an error (case-insensitive)',
    yaml: yamlWith(
      `dns: true\n${star}`,
      '  - { name: INTERNET, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.net" }] }',
    ),
    errors: [['connectors[1].name', /duplicate connector name "internet"/]],
  },
  {
    name: 'duplicate virtual server names are an error',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'connectors:',
      '  - { name: default, fqdn: mx.contoso.com, listen: "10.0.0.2:25" }\nconnectors:',
    ),
    errors: [['virtualServers[1].name', /duplicate virtual server name "default"/]],
  },
  {
    name: 'duplicate inbound domains are an error',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'virtualServers:',
      '  - { domain: CONTOSO.com, mailboxHosts: ["[10.0.0.6]"] }\nvirtualServers:',
    ),
    errors: [['recipientPolicies[1].domain', /duplicate inbound domain "contoso.com"/]],
  },
  {
    name: 'duplicate routing groups are an error',
    yaml: yamlWith(`dns: true\n${star}`, 'routingGroups: [first, First]'),
    errors: [['routingGroups[1]', /duplicate routing group/]],
  },
  // schema
  {
    name: 'an unknown connector key is an error',
    yaml: yamlWith(`dns: true\n${star}\nsmarthost: relay.example.com`),
    errors: [['connectors[0].smarthost', /^unknown key$/]],
  },
  {
    name: 'an unknown top-level key is an error',
    yaml: yamlWith(`dns: true\n${star}`, 'routing: {}'),
    errors: [['routing', /^unknown key$/]],
  },
  {
    name: 'an unknown nested key is an error',
    yaml: yamlWith(`dns: true\n${star}\ncontentRestrictions: { maxSize: 5 }`),
    errors: [['connectors[0].contentRestrictions.maxSize', /^unknown key$/]],
  },
  {
    name: 'a missing required key is named',
    yaml: 'organization: x\n',
    errors: [['virtualServers', /^is required$/]],
  },
  {
    name: 'a duration that does not parse is an error',
    yaml: yamlWith(`dns: true\n${star}\nretry: { expireAfter: 2 days }`),
    errors: [['connectors[0].retry.expireAfter', /"2 days" is not a duration/]],
  },
  {
    name: 'a YAML syntax error names the line',
    yaml: 'virtualServers: [\n  {name: a\n',
    errors: [
      ['line 3', /^YAML: Flow map/],
      ['line 3', /^YAML: Flow sequence/],
    ],
  },
  // time and schedules
  {
    name: 'an unknown time zone is an error',
    yaml: yamlWith(`dns: true\n${star}\ndelivery: { timezone: Mars/Olympus }`),
    errors: [['connectors[0].delivery.timezone', /"Mars\/Olympus" is not an IANA time zone/]],
  },
  {
    name: 'a schedule the schedule lib rejects is an error',
    yaml: yamlWith(`dns: true\n${star}\ndelivery: { schedule: "sometimes" }`),
    errors: [['connectors[0].delivery.schedule', /./]],
  },
  {
    name: 'an oversize schedule the schedule lib rejects is an error',
    yaml: yamlWith(
      `dns: true\n${star}\ndelivery: { oversize: { thresholdKB: 100, schedule: ["Mon-Xyz 02:00-04:00"] } }`,
    ),
    errors: [['connectors[0].delivery.oversize.schedule', /./]],
  },
  {
    name: 'weekly windows and every-N-hours schedules are accepted',
    yaml: yamlWith(
      `dns: true\n${star}\ndelivery: { schedule: ["Mon-Fri 18:00-23:45"], timezone: Europe/Berlin, oversize: { thresholdKB: 100, schedule: "every 2h" } }`,
    ),
    errors: [],
  },
  // restrictions and security
  {
    name: 'accept and reject together are an error',
    yaml: yamlWith(
      `dns: true\n${star}\ndeliveryRestrictions: { accept: ["@a.example"], reject: ["@b.example"] }`,
    ),
    errors: [['connectors[0].deliveryRestrictions', /either accept or reject/]],
  },
  {
    name: 'a restriction entry must be an address or @domain',
    yaml: yamlWith(
      `dns: true\n${star}\ndeliveryRestrictions: { reject: [ok@a.example, b.example] }`,
    ),
    errors: [
      ['connectors[0].deliveryRestrictions.reject[1]', /"b\.example" is neither an address/],
    ],
  },
  {
    name: 'basic auth needs a username and a password source',
    yaml: yamlWith(`dns: true\n${star}\noutboundSecurity: { auth: basic }`),
    errors: [
      ['connectors[0].outboundSecurity.username', /needs a username/],
      ['connectors[0].outboundSecurity', /passwordEnv or passwordFile/],
    ],
  },
  {
    name: 'a delay notice at or after expiry is an error',
    yaml: yamlWith(`dns: true\n${star}\nretry: { expireAfter: 12h, delayNotifyAfter: 12h }`),
    errors: [['connectors[0].retry.delayNotifyAfter', /shorter than retry\.expireAfter/]],
  },
  {
    name: 'a link-state maxDownFor shorter than downFor is an error',
    yaml: yamlWith(`dns: true\n${star}\nlinkState: { downFor: 10m, maxDownFor: 5m }`),
    errors: [['connectors[0].linkState.maxDownFor', /downFor/]],
  },
  // virtual servers and policies
  {
    name: 'a relay range with an impossible prefix is an error',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", relay: { allow: [127.0.0.0/8, 10.0.0.0/33, "::1/129"] }',
    ),
    errors: [
      ['virtualServers[0].relay.allow[1]', /0-32/],
      ['virtualServers[0].relay.allow[2]', /0-128/],
    ],
  },
  {
    name: 'a relay entry that is not an IP is an error',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", relay: { etrn: [999.1.1.1] }',
    ),
    errors: [['virtualServers[0].relay.etrn[0]', /not an IP address/]],
  },
  {
    name: 'a DNS server must be an IP address',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", outbound: { dnsServers: ["10.0.0.53", "10.0.0.54:5353", ns.example.com] }',
    ),
    errors: [['virtualServers[0].outbound.dnsServers[2]', /not an IP address/]],
  },
  {
    name: 'period size needs maxSizeMB',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'listen: "10.0.0.1:25"',
      'listen: "10.0.0.1:25", protocolLog: { enabled: true, period: size }',
    ),
    errors: [['virtualServers[0].protocolLog.maxSizeMB', /needs maxSizeMB/]],
  },
  {
    name: 'a mailbox host must be a valid smart host',
    yaml: yamlWith(`dns: true\n${star}`).replace('"[10.0.0.5]:25"', '"10.0.0.5"'),
    errors: [['recipientPolicies[0].mailboxHosts[0]', /brackets/]],
  },
  {
    name: 'a mailbox host that is this server would loop',
    yaml: yamlWith(`dns: true\n${star}`).replace('"[10.0.0.5]:25"', 'mail.contoso.com'),
    errors: [['recipientPolicies[0].mailboxHosts[0]', /own address/]],
  },
  {
    name: 'an inbound domain must be a plain domain',
    yaml: yamlWith(`dns: true\n${star}`).replace('domain: contoso.com', 'domain: "*.contoso.com"'),
    errors: [['recipientPolicies[0].domain', /not a domain name/]],
  },
  {
    name: 'recipientValidation: list without validRecipientsFile is an error',
    yaml: yamlWith(`dns: true\n${star}`).replace(
      'mailboxHosts: ["[10.0.0.5]:25"] }',
      'mailboxHosts: ["[10.0.0.5]:25"], recipientValidation: list }',
    ),
    errors: [['recipientPolicies[0].validRecipientsFile', /needs validRecipientsFile/]],
  },
  {
    name: 'cluster and sentinel together are an error',
    yaml: yamlWith(
      `dns: true\n${star}`,
      'redis: { cluster: { nodes: ["a.example:6379"] }, sentinel: { name: m, sentinels: ["s.example:26379"] } }',
    ),
    errors: [['redis', /either cluster or sentinel/]],
  },
];

describe('config validation', () => {
  testErrorCases(cases);

  test('every error is reported, not just the first, each as "<path>: <reason>", in file order', () => {
    const r = parseConfig(`
recipientPolicies: [{ domain: contoso.com, mailboxHosts: ["[10.0.0.5]"] }]
virtualServers: [{ name: default, fqdn: mail.contoso.com }]
connectors:
  - { name: A, smartHosts: [192.0.2.1, relay], bridgeheads: [default, ghost], addressSpaces: [{ domain: contoso.com, cost: 0 }] }
  - { name: a, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*" }], delivery: { timezone: Nowhere/City } }
`);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => formatConfigError(e).replace(/: .*/, '')),
      [
        'connectors[0].smartHosts[0]',
        'connectors[0].smartHosts[1]',
        'connectors[0].bridgeheads[1]',
        'connectors[0].addressSpaces[0].domain',
        'connectors[0].addressSpaces[0].cost',
        'connectors[1].name',
        'connectors[1].delivery.timezone',
      ],
    );
  });

  test('all unknown keys are reported together', () => {
    const r = parseConfig(
      'virtualServers: [{ name: a, fqdn: a.example.com, colour: red }]\nbogus: 1\n',
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors.map(formatConfigError), [
      'virtualServers[0].colour: unknown key [MAILBUS_ERR_CONFIG_UNKNOWN_KEY]',
      'bogus: unknown key [MAILBUS_ERR_CONFIG_UNKNOWN_KEY]',
    ]);
  });

  test('unknown keys, durations and wrong values do not hide the rules: all in one run, in file order, each with its code', () => {
    const r = parseConfig(`organization: contoso
tracking: { retention: 1 week }
virtualServers:
  - name: default
    fqdn: mail.contoso.com
    colour: blue
    maxHops: -1
connectors:
  - name: A
    smartHosts: [192.0.2.1]
    bridgeheads: [default, ghost]
    retry: { expireAfter: 2 days }
    addressSpaces: [{ domain: "*", cost: 0 }]
  - name: B
    bridgeheads: [default]
    addressSpaces: [{ domain: "*.net" }]
    bogus: 1
bogus: 2
`);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => [e.path, e.code]),
      [
        ['tracking.retention', 'MAILBUS_ERR_CONFIG_DURATION'],
        ['virtualServers[0].colour', 'MAILBUS_ERR_CONFIG_UNKNOWN_KEY'],
        ['virtualServers[0].maxHops', 'MAILBUS_ERR_CONFIG_VALUE'],
        ['connectors[0].smartHosts[0]', 'MAILBUS_ERR_CONFIG_RULE'],
        ['connectors[0].bridgeheads[1]', 'MAILBUS_ERR_CONFIG_RULE'],
        ['connectors[0].retry.expireAfter', 'MAILBUS_ERR_CONFIG_DURATION'],
        ['connectors[0].addressSpaces[0].cost', 'MAILBUS_ERR_CONFIG_RULE'],
        ['connectors[1].smartHosts', 'MAILBUS_ERR_CONFIG_RULE'],
        ['connectors[1].bogus', 'MAILBUS_ERR_CONFIG_UNKNOWN_KEY'],
        ['bogus', 'MAILBUS_ERR_CONFIG_UNKNOWN_KEY'],
      ],
      r.errors.map(formatConfigError).join('\n'),
    );
  });

  test('a required value missing still lets the rules check the rest; nothing is said about the stand-in', () => {
    const r = parseConfig(`virtualServers:
  - { name: default }
connectors:
  - { name: A, smartHosts: [192.0.2.1], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors.map(formatConfigError), [
      'virtualServers[0].fqdn: is required [MAILBUS_ERR_CONFIG_VALUE]',
      r.errors[1] ? formatConfigError(r.errors[1]) : '',
    ]);
    assert.match(
      formatConfigError(r.errors[1] ?? { path: '', reason: '' }),
      /^connectors\[0\]\.smartHosts\[0\]: .*brackets.*\[MAILBUS_ERR_CONFIG_RULE\]$/,
    );
  });
});
