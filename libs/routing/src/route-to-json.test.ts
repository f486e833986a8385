import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { replies } from '@mailbus/smtp';
import { withConnectors } from '../test/config-from-yaml.js';
import { routeRecipients } from './route-recipient.js';
import { routeToJson } from './route-to-json.js';

const config = withConnectors(
  `{ name: Connector1, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 1 }] }`,
  `{ name: Connector2, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 2 }] }`,
  `{ name: Net, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*.net", cost: 7 }], contentRestrictions: { maxSizeKB: 10 } }`,
);
const facts = { sender: 'a@contoso.com', priority: 'normal' as const, system: false };

describe('routeToJson', () => {
  test('prints exactly the mailbus route --json shape, one entry per recipient in order', () => {
    const ds = routeRecipients(config, { ...facts, sizeKB: 20 }, [
      'x@example.com',
      'y@contoso.com',
      'z@x.net',
    ]);
    assert.deepEqual(routeToJson(ds), {
      recipients: [
        {
          recipient: 'x@example.com',
          connectors: [
            { name: 'Connector1', cost: 1 },
            { name: 'Connector2', cost: 2 },
          ],
        },
        { recipient: 'y@contoso.com', local: { mailboxHosts: ['[10.0.0.5]:25'] } },
        {
          recipient: 'z@x.net',
          rejected: { code: 552, enhanced: '5.3.4', reason: replies.messageTooBig(10).text },
        },
      ],
    });
  });

  test('down connectors stay in connectors, in try order, without extra keys', () => {
    const ds = routeRecipients(config, facts, ['x@example.com'], new Set(['Connector1']));
    assert.deepEqual(routeToJson(ds), {
      recipients: [
        {
          recipient: 'x@example.com',
          connectors: [
            { name: 'Connector2', cost: 2 },
            { name: 'Connector1', cost: 1 },
          ],
        },
      ],
    });
  });

  test('a domain no address space matches is rejected 550 5.4.4', () => {
    const ds = routeRecipients(config, facts, ['nobody']);
    assert.deepEqual(routeToJson(ds).recipients[0], {
      recipient: 'nobody',
      rejected: { code: 550, enhanced: '5.4.4', reason: replies.noRoute('').text },
    });
  });

  test('the document survives JSON round-trip unchanged', () => {
    const doc = routeToJson(routeRecipients(config, facts, ['x@example.com', 'y@contoso.com']));
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  });
});
