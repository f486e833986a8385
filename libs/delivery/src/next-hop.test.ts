import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type Connector } from '@mailbus/config';
import { DnsServer } from '@mailbus/testing';
import { resolveNextHops, type HopGroup } from './next-hop.js';

/** The connectors of a real config (smart hosts and DNS), as the bridgehead gets them. */
function connectors(dnsAddress: string): Map<string, Connector> {
  const r = parseConfig(`
organization: Test
virtualServers:
  - name: hub
    listen: 127.0.0.1:2525
    fqdn: hub.contoso.test
    outbound: { port: 2526 }
connectors:
  - name: Smart
    smartHosts: ["relay1.contoso.test", "[192.0.2.9]:587"]
    port: 25
    bridgeheads: [hub]
    addressSpaces: [{ domain: smart.test }]
  - name: Internet
    dns: true
    dnsServers: ["${dnsAddress}"]
    port: 2525
    bridgeheads: [hub]
    addressSpaces: [{ domain: "*" }]
`);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.reason}`).join('\n'));
  return new Map(r.config.connectors.map((c) => [c.name, c]));
}

const rcpt = (address: string) => ({ address });

/** Each group as "recipients → hosts" or "recipients ✗ status (permanent|transient)". */
function show(groups: HopGroup<{ address: string }>[]): string[] {
  return groups.map((g) => {
    const who = g.recipients.map((r) => r.address).join(',');
    return 'error' in g
      ? `${who} ✗ ${g.error.enhanced} ${g.permanent ? 'permanent' : 'transient'}`
      : `${who} → ${g.hosts.map((h) => `${h.name}@${h.address}:${h.port}`).join(' ')}`;
  });
}

describe('next-hop resolution', () => {
  let dns: DnsServer;
  let byName: Map<string, Connector>;
  before(async () => {
    dns = await DnsServer.start({
      'pref.test': {
        mx: [
          { preference: 20, exchange: 'mx2.pref.test' },
          { preference: 10, exchange: 'mx1.pref.test' },
        ],
      },
      'mx1.pref.test': { a: ['127.0.0.2'] },
      'mx2.pref.test': { a: ['127.0.0.3'] },
      'implicit.test': { a: ['127.0.0.6'] },
      'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
      'broken.test': { rcode: 'SERVFAIL' },
      'loop.test': { mx: [{ preference: 10, exchange: 'hub.contoso.test' }] },
      'hub.contoso.test': { a: ['127.0.0.1'] },
      'looplit.test': { mx: [{ preference: 10, exchange: 'in.looplit.test' }] },
      'in.looplit.test': { a: ['127.0.0.1'] },
    });
    byName = connectors(dns.address);
  });
  after(() => dns.close());

  const own = new Set(['hub.contoso.test', '127.0.0.1:2525']);
  const hops = (connector: string | undefined, addresses: string[], mailboxHosts?: string[]) =>
    resolveNextHops({
      recipients: addresses.map(rcpt),
      connector: connector ? byName.get(connector) : undefined,
      mailboxHosts,
      defaultPort: 2526,
      ownHosts: own,
    }).then(show);

  test('smart hosts in order, all recipients together, the connector port unless one is named', async () => {
    assert.deepEqual(await hops('Smart', ['a@smart.test', 'b@smart.test']), [
      'a@smart.test,b@smart.test → relay1.contoso.test@relay1.contoso.test:25 192.0.2.9@192.0.2.9:587',
    ]);
  });

  test('MX hosts by preference, one group per recipient domain', async () => {
    assert.deepEqual(await hops('Internet', ['a@pref.test', 'b@implicit.test', 'c@PREF.test']), [
      'a@pref.test,c@PREF.test → mx1.pref.test@127.0.0.2:2525 mx2.pref.test@127.0.0.3:2525',
      'b@implicit.test → implicit.test@127.0.0.6:2525',
    ]);
  });

  test('null MX, no such domain and SERVFAIL: 5.1.10 and 5.1.2 permanent, 4.4.3 transient', async () => {
    assert.deepEqual(
      await hops('Internet', ['a@nullmx.test', 'b@nxdomain.test', 'c@broken.test']),
      [
        'a@nullmx.test ✗ 5.1.10 permanent',
        'b@nxdomain.test ✗ 5.1.2 permanent',
        'c@broken.test ✗ 4.4.3 transient',
      ],
    );
  });

  test('an MX that is our own ingress, by name or by address and port, is a 5.4.6 loop', async () => {
    assert.deepEqual(await hops('Internet', ['a@loop.test', 'b@looplit.test']), [
      'a@loop.test ✗ 5.4.6 permanent',
      'b@looplit.test ✗ 5.4.6 permanent',
    ]);
  });

  test('local delivery goes to the mailbox hosts, the outbound port unless one is named', async () => {
    assert.deepEqual(await hops(undefined, ['a@in.test'], ['mbx.in.test', '[127.0.0.9]:2600']), [
      'a@in.test → mbx.in.test@mbx.in.test:2526 127.0.0.9@127.0.0.9:2600',
    ]);
  });
});
