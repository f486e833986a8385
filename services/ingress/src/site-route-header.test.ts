import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@mailbus/config';
import { readHeaders } from './message-facts.js';
import { siteRoute } from './site-route-header.js';

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
  'X-Mailbus-Routing-Groups: Tokyo,\r\n Boston\r\nSubject: hi\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
);

function route(trusted: boolean) {
  assert.ok(sites.ok);
  return siteRoute(sites.config, 'paris-gw', message, readHeaders(message, 65536), trusted);
}

describe('visited routing groups at a site', () => {
  test('from a client that may relay: believed, and this group appended for the next site', () => {
    const r = route(true);
    assert.deepEqual(r?.visited, ['Tokyo', 'Boston']);
    assert.equal(
      r?.body.toString(),
      'X-Mailbus-Routing-Groups: Tokyo, Boston, Paris\r\nSubject: hi\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
    );
  });

  test('from anyone else: removed (continuation lines too), and the message starts its route here', () => {
    const r = route(false);
    assert.deepEqual(r?.visited, []);
    assert.equal(
      r?.body.toString(),
      'X-Mailbus-Routing-Groups: Paris\r\nSubject: hi\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
    );
  });

  test('routing groups that are only labels: nothing read, the body stored as received', () => {
    assert.ok(labels.ok);
    assert.equal(
      siteRoute(labels.config, 'paris-gw', message, readHeaders(message, 65536), true),
      undefined,
    );
  });
});
