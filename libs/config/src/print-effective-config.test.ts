import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './load-config.js';
import { printEffectiveConfig } from './print-effective-config.js';

const config = loadConfig(`
redis: { url: "redis://app:s3cret@redis.example:6379/0" }
virtualServers:
  - { name: default, fqdn: mail.contoso.com, maxMessageSizeKB: 4096, outbound: { smartHost: relay.isp.example } }
connectors:
  - { name: Internet, bridgeheads: [default], addressSpaces: [{ domain: "*" }], retry: { intervals: [10m, 1h30m] } }
`);

describe('printEffectiveConfig', () => {
  const printed = printEffectiveConfig(config);
  const connector = (printed.connectors as Array<Record<string, unknown>>)[0];

  test('marks every inherited connector value with the virtual server it came from', () => {
    assert.deepEqual(connector?.inherited, {
      smartHosts: 'virtual server default',
      port: 'virtual server default',
      dnsServers: 'virtual server default',
      maxSizeKB: 'virtual server default',
    });
    assert.deepEqual(connector?.smartHosts, ['relay.isp.example']);
    assert.equal((connector?.contentRestrictions as Record<string, unknown>).maxSizeKB, 4096);
  });

  test('writes durations back as text', () => {
    assert.deepEqual(connector?.retry, {
      intervals: ['10m', '1h30m'],
      expireAfter: '2d',
      delayNotifyAfter: '12h',
    });
    assert.equal((printed.redis as Record<string, unknown>).commandTimeout, '3s');
  });

  test('masks the password in the Redis URL', () => {
    assert.equal(
      (printed.redis as Record<string, unknown>).url,
      'redis://app:***@redis.example:6379/0',
    );
  });

  test('leaves out internal fields and survives a JSON round-trip', () => {
    assert.equal('index' in (connector ?? {}), false);
    assert.equal('hosts' in (connector ?? {}), false);
    assert.deepEqual(JSON.parse(JSON.stringify(printed)), printed);
  });
});
