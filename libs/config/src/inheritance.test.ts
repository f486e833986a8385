import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseConfig } from './load-config.js';
import { ConfigValidationError } from './config-error.js';

const yaml = `
routingGroups: [first, second]
virtualServers:
  - name: edge
    fqdn: mail.contoso.com
    routingGroup: second
    maxMessageSizeKB: 2048
    outbound: { port: 2525, dnsServers: ["10.0.0.53"], smartHost: "[192.0.2.25]" }
  - { name: other, fqdn: mx2.contoso.com, listen: "0.0.0.0:2526" }
connectors:
  - { name: Inherits, bridgeheads: [edge, other], addressSpaces: [{ domain: "*" }] }
  - name: Explicit
    bridgeheads: [edge]
    smartHosts: ["relay.isp.example:587"]
    port: 26
    dnsServers: ["10.9.9.9"]
    contentRestrictions: { maxSizeKB: 100 }
    addressSpaces: [{ domain: "*.net" }]
  - { name: Dns, dns: true, bridgeheads: [other], addressSpaces: [{ domain: "*.org" }] }
`;

describe('inheritance and defaults', () => {
  const config = loadConfig(yaml);
  const [inherits, explicit, dns] = config.connectors;

  test('a connector inherits maxSizeKB, port, DNS servers and smart host of its first bridgehead', () => {
    assert.equal(inherits?.contentRestrictions.maxSizeKB, 2048);
    assert.equal(inherits?.port, 2525);
    assert.deepEqual(inherits?.dnsServers, ['10.0.0.53']);
    assert.deepEqual(inherits?.smartHosts, ['[192.0.2.25]']);
    assert.deepEqual(inherits?.hosts, [{ host: '192.0.2.25', literal: true }]);
    assert.deepEqual([...(inherits?.inherited ?? [])].sort(), [
      'dnsServers',
      'maxSizeKB',
      'port',
      'smartHosts',
    ]);
  });

  test('values set on the connector are kept and not marked inherited', () => {
    assert.equal(explicit?.contentRestrictions.maxSizeKB, 100);
    assert.equal(explicit?.port, 26);
    assert.deepEqual(explicit?.dnsServers, ['10.9.9.9']);
    assert.deepEqual(explicit?.hosts, [{ host: 'relay.isp.example', literal: false, port: 587 }]);
    assert.deepEqual(explicit?.inherited, []);
  });

  test('a dns: true connector inherits no smart host', () => {
    assert.deepEqual(dns?.hosts, []);
    assert.equal(dns?.inherited.includes('smartHosts'), false);
    assert.equal(dns?.port, 25);
  });

  test('connectors keep their config position and bridgehead routing groups', () => {
    assert.deepEqual(
      config.connectors.map((c) => c.index),
      [0, 1, 2],
    );
    assert.deepEqual(inherits?.routingGroups, ['second', 'first']);
    assert.deepEqual(
      config.virtualServers.map((v) => v.routingGroup),
      ['second', 'first'],
    );
  });

  test('defaults: cost 1, organization scope, every priority and type, Exchange 2003 retry', () => {
    assert.equal(dns?.addressSpaces[0]?.cost, 1);
    assert.equal(dns?.scope, 'organization');
    assert.deepEqual(dns?.contentRestrictions.priorities, ['high', 'normal', 'low']);
    assert.deepEqual(dns?.contentRestrictions.types, ['system', 'nonSystem']);
    assert.deepEqual(dns?.retry.intervals, [900_000, 1_800_000, 3_600_000, 14_400_000]);
    assert.equal(dns?.retry.expireAfter, 172_800_000);
    assert.equal(dns?.delivery.schedule, 'always');
  });

  test('the effective config is frozen', () => {
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(inherits?.contentRestrictions));
  });

  test('MAILBUS_REDIS_URL overrides redis.url', () => {
    const r = parseConfig(`${yaml}redis: { url: "redis://file:6379" }\n`, {
      env: { MAILBUS_REDIS_URL: 'redis://env:6380' },
    });
    assert.equal(r.ok && r.config.redis.url, 'redis://env:6380');
  });

  test('loadConfig throws every error in one ConfigValidationError', () => {
    assert.throws(
      () => loadConfig(`${yaml.replace('port: 26', 'port: 26\n    bogus: 1')}`),
      (e: unknown) =>
        e instanceof ConfigValidationError &&
        e.code === 'MAILBUS_ERR_CONFIG_INVALID' &&
        e.message === 'connectors[1].bogus: unknown key [MAILBUS_ERR_CONFIG_UNKNOWN_KEY]',
    );
  });
});
