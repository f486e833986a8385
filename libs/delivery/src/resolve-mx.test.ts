import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsServer } from '@mailbus/testing';
import { resolveMx } from './resolve-mx.js';

describe('resolveMx against a real DNS server on loopback', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await DnsServer.start({
      'pref.test': {
        mx: [
          { preference: 20, exchange: 'mx2.pref.test' },
          { preference: 10, exchange: 'mx1.pref.test' },
        ],
      },
      'mx1.pref.test': { a: ['127.0.0.2'] },
      'mx2.pref.test': { a: ['127.0.0.3'], aaaa: ['::1'] },
      'equal.test': {
        mx: [
          { preference: 10, exchange: 'a.equal.test' },
          { preference: 10, exchange: 'b.equal.test' },
        ],
      },
      'a.equal.test': { a: ['127.0.0.4'] },
      'b.equal.test': { a: ['127.0.0.5'] },
      'implicit.test': { a: ['127.0.0.6'] },
      'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
      'broken.test': { rcode: 'SERVFAIL' },
      'nameless.test': { mx: [{ preference: 10, exchange: 'gone.nameless.test' }] },
      'empty.test': {},
    });
  });
  after(() => dns.close());
  const opts = () => ({ dnsServers: [dns.address], port: 2525, timeoutMs: 500 });

  test('orders MX hosts by preference, lowest first, each with its addresses and the outbound port', async () => {
    const r = await resolveMx('pref.test', opts());
    assert.ok(r.ok);
    assert.deepEqual(
      r.hosts.map((h) => `${h.name} ${h.address}:${h.port}`),
      ['mx1.pref.test 127.0.0.2:2525', 'mx2.pref.test 127.0.0.3:2525', 'mx2.pref.test ::1:2525'],
    );
  });

  test('orders MX hosts of equal preference by the random source', async () => {
    const first = await resolveMx('equal.test', { ...opts(), random: seq([0.9, 0.1]) });
    const second = await resolveMx('equal.test', { ...opts(), random: seq([0.1, 0.9]) });
    assert.ok(first.ok && second.ok);
    assert.deepEqual(
      first.hosts.map((h) => h.name),
      ['b.equal.test', 'a.equal.test'],
    );
    assert.deepEqual(
      second.hosts.map((h) => h.name),
      ['a.equal.test', 'b.equal.test'],
    );
  });

  test('uses the domain’s own address as an implicit MX when it has no MX record', async () => {
    const r = await resolveMx('implicit.test', opts());
    assert.ok(r.ok);
    assert.deepEqual(r.hosts, [{ name: 'implicit.test', address: '127.0.0.6', port: 2525 }]);
  });

  test('a null MX is a permanent 5.1.10', async () => {
    const r = await resolveMx('nullmx.test', opts());
    assert.ok(!r.ok);
    assert.equal(r.permanent, true);
    assert.equal(r.reply.enhanced, '5.1.10');
  });

  test('NXDOMAIN is a permanent 5.1.2', async () => {
    const r = await resolveMx('no-such-domain.test', opts());
    assert.ok(!r.ok);
    assert.equal(r.permanent, true);
    assert.equal(r.reply.enhanced, '5.1.2');
  });

  test('a domain with neither MX nor address is a permanent 5.1.2', async () => {
    const r = await resolveMx('empty.test', opts());
    assert.ok(!r.ok);
    assert.equal(r.permanent, true);
    assert.equal(r.reply.enhanced, '5.1.2');
  });

  test('SERVFAIL is transient 4.4.3', async () => {
    const r = await resolveMx('broken.test', opts());
    assert.ok(!r.ok);
    assert.equal(r.permanent, false);
    assert.equal(r.reply.enhanced, '4.4.3');
  });

  test('MX hosts without any address are transient 4.4.3', async () => {
    const r = await resolveMx('nameless.test', opts());
    assert.ok(!r.ok);
    assert.equal(r.permanent, false);
    assert.equal(r.reply.enhanced, '4.4.3');
  });

  test('an address literal is delivered to as is, without DNS', async () => {
    const r = await resolveMx('[192.0.2.7]', opts());
    assert.ok(r.ok);
    assert.deepEqual(r.hosts, [{ name: '192.0.2.7', address: '192.0.2.7', port: 2525 }]);
  });
});

function seq(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}
