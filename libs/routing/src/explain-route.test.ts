import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { twoSites, withConnectors } from '../test/config-from-yaml.js';
import { explainRoute } from './explain-route.js';

const config = withConnectors(
  `{ name: Internet, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*" }] }`,
  `{ name: Net, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.net", cost: 2 }], contentRestrictions: { maxSizeKB: 10 } }`,
  `{ name: NetBackup, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.net", cost: 3 }] }`,
);
const facts = { sender: 'a@contoso.com', priority: 'normal' as const, system: false };

describe('explainRoute', () => {
  test('says which connector was dropped and why, which lost to a closer space, and the outcome', () => {
    const lines = explainRoute(config, { ...facts, sizeKB: 20 }, 'x@y.net', new Set(['NetBackup']));
    assert.deepEqual(lines, [
      'x@y.net (domain y.net):',
      '  Internet [address space *, cost 1]: not used, a closer address space matches',
      '  Net [address space *.net, cost 2]: dropped, message size 20 KB is over maxSizeKB 10',
      '  NetBackup [address space *.net, cost 3]: kept, marked down (tried after the live ones)',
      '  => try NetBackup (down)',
    ]);
  });

  test('an inbound domain is explained as local delivery', () => {
    assert.deepEqual(explainRoute(config, facts, 'x@contoso.com'), [
      'x@contoso.com (domain contoso.com):',
      '  inbound domain (recipientPolicies): local delivery to [10.0.0.5]:25',
    ]);
  });

  test('a rejection ends with the full reply', () => {
    const lines = explainRoute(config, { ...facts, sizeKB: 20 }, 'nobody');
    assert.equal(lines.at(-1)?.startsWith('  => rejected: 550 5.4.4'), true);
  });
});

describe('explainRoute across routing groups', () => {
  const sites = twoSites(
    '{ name: Internet, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*", cost: 1 }] }',
  );
  const boston = { ...facts, virtualServer: 'boston-gw' };

  test('explains a cross-site path hop by hop, with costs', () => {
    assert.deepEqual(explainRoute(sites, boston, 'x@example.net', new Set(['Internet'])), [
      'x@example.net (domain example.net):',
      '  routed in routing group Boston',
      '  Internet [address space *, cost 1, routing group Paris]: kept, marked down (tried after the live ones)',
      '  => try Boston-Paris (down)',
      '  Boston-Paris: path cost 11 (a connector on it is down)',
      '    1. Boston-Paris: routing group Boston -> Paris, cost 10',
      '    2. Internet: delivers from routing group Paris, address-space cost 1',
    ]);
  });

  test('explains the path to a mailbox of another routing group', () => {
    assert.deepEqual(explainRoute(sites, boston, 'u@paris.contoso.com'), [
      'u@paris.contoso.com (domain paris.contoso.com):',
      '  routed in routing group Boston',
      '  inbound domain (recipientPolicies) of routing group Paris',
      '  => try Boston-Paris',
      '  Boston-Paris: path cost 10',
      '    1. Boston-Paris: routing group Boston -> Paris, cost 10',
      '       mailbox hosts of routing group Paris',
    ]);
  });
});
