import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanLine } from './human-format.js';

test('a delivery line reads like Postfix: head, key=value in the order written, the reply last', () => {
  const json = JSON.stringify({
    level: 'info',
    time: '2026-12-01T04:10:44.123Z',
    name: 'mailbus',
    pid: 7,
    hostname: 'vm',
    category: 'delivery',
    queue_id: '0MX46',
    to: 'bob@example.net',
    connector: 'Internet',
    relay: 'mx.example.net[192.0.2.1]:25',
    delay: 1.25,
    dsn: '2.0.0',
    status: 'sent',
    reply: '250 2.0.0 OK queued',
    msg: 'delivered',
  });
  assert.equal(
    humanLine(json),
    '2026-12-01T04:10:44.123Z info  delivery delivered queue_id=0MX46 to=bob@example.net connector=Internet relay=mx.example.net[192.0.2.1]:25 delay=1.25 dsn=2.0.0 status=sent (250 2.0.0 OK queued)\n',
  );
});

test('values with spaces are quoted; an error adds err= and, at level error, its stack indented', () => {
  const line = humanLine(
    JSON.stringify({
      level: 'error',
      time: 't',
      msg: 'enqueue failed',
      helo: 'a b',
      to: ['x@a.example', 'y@b.example'],
      err: {
        type: 'Error',
        message: 'Connection is closed.',
        stack: 'Error: x\n    at f (a.js:1)',
      },
    }),
  );
  assert.equal(
    line,
    't error enqueue failed helo="a b" to=x@a.example,y@b.example err="Connection is closed."\n    at f (a.js:1)\n',
  );
  assert.equal(humanLine('not json'), 'not json\n');
});
