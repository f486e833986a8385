import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@mailbus/config';
import { readHeaders } from './message-facts.js';
import { siteRoute, siteTraceContext } from './site-route-header.js';

const sites = parseConfig(`
routingGroups: [Paris, Boston]
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.com }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.com }
connectors:
  - { name: Boston-Paris, bridgeheads: [boston-gw], smartHosts: [paris-gw.contoso.com], connectedRoutingGroups: [{ name: Paris }] }
`);
const labels = parseConfig(`
routingGroups: [Paris, Boston]
virtualServers: [{ name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.com }]
`);

const message = Buffer.from(
  'X-Mailbus-Routing-Groups: Tokyo,\r\n Boston\r\nSubject: hi\r\nX-Mailbus-Trace-Context: traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01; site=Boston; queue-id=Q1\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
);

function route(trusted: boolean) {
  assert.ok(sites.ok);
  const handed = siteTraceContext(sites.config, message, trusted);
  return siteRoute(sites.config, 'paris-gw', message, readHeaders(message, 65536), trusted, handed);
}

describe('visited routing groups at a site', () => {
  test('from a client that may relay: believed, and this group appended for the next site', () => {
    const r = route(true);
    assert.deepEqual(r?.visited, ['Tokyo', 'Boston']);
    assert.deepEqual(r?.from, { site: 'Boston', queueId: 'Q1' });
    assert.ok(sites.ok);
    assert.deepEqual(siteTraceContext(sites.config, message, true), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      site: 'Boston',
      queueId: 'Q1',
    });
    assert.equal(
      r?.body.toString(),
      'X-Mailbus-Routing-Groups: Tokyo, Boston, Paris\r\nSubject: hi\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
    );
  });

  test('from anyone else: removed (continuation lines too), and the message starts its route here', () => {
    const r = route(false);
    assert.deepEqual(r?.visited, []);
    assert.equal(r?.from, undefined);
    assert.ok(sites.ok);
    assert.equal(siteTraceContext(sites.config, message, false), undefined);
    assert.equal(
      r?.body.toString(),
      'X-Mailbus-Routing-Groups: Paris\r\nSubject: hi\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
    );
  });

  test('routing groups that are only labels: nothing read, the body stored as received', () => {
    assert.ok(labels.ok);
    assert.equal(
      siteRoute(labels.config, 'paris-gw', message, readHeaders(message, 65536), true, undefined),
      undefined,
    );
    assert.equal(siteTraceContext(labels.config, message, true), undefined);
  });
});
