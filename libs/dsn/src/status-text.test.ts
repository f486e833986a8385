import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText } from './status-text.js';

describe('statusText (RFC 3463)', () => {
  const cases: readonly [string, string | undefined][] = [
    ['5.1.1', 'Bad destination mailbox address: the mailbox does not exist'],
    ['5.1.2', 'Bad destination system address: the domain does not exist or cannot receive mail'],
    ['5.1.10', 'The recipient domain does not accept mail (null MX)'],
    ['5.3.4', 'Message too big for system'],
    ['5.3.5', 'System incorrectly configured: the message would loop back to this organisation'],
    ['5.4.4', 'Unable to route: no connector or mail exchanger for the destination'],
    ['5.4.6', 'Routing loop detected'],
    ['5.4.7', 'Delivery time expired: the message could not be delivered in the time allowed'],
    ['5.7.1', 'Delivery not authorized, message refused'],
    ['4.4.1', 'No answer from host'],
    ['4.4.7', 'Delivery time expired: the message could not be delivered in the time allowed'],
    ['2.0.0', 'Other undefined status'],
    ['4.2.9', 'Persistent transient failure: mailbox status'],
    ['5.9.9', 'Permanent failure'],
    ['3.1.1', undefined],
    ['550', undefined],
  ];
  for (const [status, text] of cases) {
    test(`explains ${status} as ${JSON.stringify(text)}`, () =>
      assert.equal(statusText(status), text));
  }
});
