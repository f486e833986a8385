import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { replies } from '@mailbus/smtp';
import { withConnectors } from '../test/config-from-yaml.js';
import { routeRecipients } from './route-recipient.js';
import { splitByConnector } from './split-by-connector.js';

const config = withConnectors(
  `{ name: Internet, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 1 }] }`,
  `{ name: Backup, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 2 }] }`,
  `{ name: Net, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.net" }] }`,
  `{ name: Org, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.org" }] }`,
);
const facts = { sender: 'a@contoso.com', priority: 'normal' as const, system: false };

describe('splitByConnector', () => {
  test('recipients sharing a first connector become one group, in first-appearance order', () => {
    const split = splitByConnector(
      routeRecipients(config, facts, [
        'a@x.net',
        'b@example.com',
        'c@y.net',
        'd@example.org',
        'e@example.de',
      ]),
    );
    assert.deepEqual(
      split.connectors.map((g) => [g.connector, g.recipients]),
      [
        ['Net', ['a@x.net', 'c@y.net']],
        ['Internet', ['b@example.com', 'e@example.de']],
        ['Org', ['d@example.org']],
      ],
    );
  });

  test('each recipient keeps its own failover list', () => {
    const split = splitByConnector(routeRecipients(config, facts, ['b@example.com']));
    assert.deepEqual(split.connectors[0]?.routes, [
      {
        recipient: 'b@example.com',
        candidates: [
          { name: 'Internet', cost: 1 },
          { name: 'Backup', cost: 2 },
        ],
      },
    ]);
  });

  test('a down first connector groups by the live one that is now first', () => {
    const split = splitByConnector(
      routeRecipients(config, facts, ['b@example.com'], new Set(['Internet'])),
    );
    assert.equal(split.connectors[0]?.connector, 'Backup');
  });

  test('inbound recipients are grouped by domain with their mailbox hosts', () => {
    const split = splitByConnector(
      routeRecipients(config, facts, ['x@contoso.com', 'y@x.net', 'z@Contoso.com']),
    );
    assert.deepEqual(split.local, [
      {
        domain: 'contoso.com',
        mailboxHosts: ['[10.0.0.5]:25'],
        recipients: ['x@contoso.com', 'z@Contoso.com'],
      },
    ]);
    assert.equal(split.connectors.length, 1);
  });

  test('rejected recipients are listed with their reply and in no group', () => {
    const noNet = withConnectors(
      `{ name: Net, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.net" }] }`,
    );
    const split = splitByConnector(routeRecipients(noNet, facts, ['a@example.com', 'b@x.net']));
    assert.deepEqual(split.rejected, [
      { recipient: 'a@example.com', reply: replies.noRoute('example.com') },
    ]);
    assert.deepEqual(
      split.connectors.map((g) => g.recipients),
      [['b@x.net']],
    );
  });

  test('a recipient given twice is enqueued once', () => {
    const split = splitByConnector(
      routeRecipients(config, facts, ['b@example.com', 'b@example.com']),
    );
    assert.deepEqual(split.connectors[0]?.recipients, ['b@example.com']);
    assert.equal(split.connectors[0]?.routes.length, 1);
  });
});
