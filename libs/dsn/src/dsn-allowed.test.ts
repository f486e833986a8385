import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dsnAllowed } from './dsn-allowed.js';
import { isNullSender } from './is-null-sender.js';

describe('dsnAllowed and isNullSender', () => {
  const cases: readonly { sender: string; isNull: boolean }[] = [
    { sender: '', isNull: true },
    { sender: '<>', isNull: true },
    { sender: ' <> ', isNull: true },
    { sender: 'alice@contoso.com', isNull: false },
    { sender: 'MAILER-DAEMON@contoso.com', isNull: false },
  ];
  for (const c of cases) {
    test(`${c.isNull ? 'never sends' : 'may send'} a DSN to sender ${JSON.stringify(c.sender)}`, () => {
      assert.equal(isNullSender(c.sender), c.isNull);
      assert.equal(dsnAllowed(c.sender), !c.isNull);
    });
  }
});
