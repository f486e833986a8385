import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryLogFields } from './delivery-log-fields.js';
import { humanLine } from './human-format.js';

test('a delivered attempt: relay name[ip]:port, delay and its three parts in seconds, dsn, status, reply', () => {
  const f = deliveryLogFields({
    queueId: '0MX1',
    recipients: ['bob@example.net', 'carol@example.net'],
    host: { name: 'mx.example.net', address: '192.0.2.1', port: 25 },
    reply: '250 2.0.0 OK queued',
    dsn: '2.0.0',
    status: 'sent',
    receivedAt: 1_000,
    startedAt: 1_250,
    finishedAt: 2_530,
    timing: { connectMs: 400, transmitMs: 880 },
  });
  assert.deepEqual(f, {
    queue_id: '0MX1',
    to: ['bob@example.net', 'carol@example.net'],
    relay: 'mx.example.net[192.0.2.1]:25',
    delay: 1.53,
    delays: '0.25/0.4/0.88',
    dsn: '2.0.0',
    status: 'sent',
    reply: '250 2.0.0 OK queued',
  });
  assert.equal(
    humanLine(
      JSON.stringify({ time: 't', level: 'info', category: 'delivery', ...f, msg: 'sent' }),
    ),
    't info  delivery sent queue_id=0MX1 to=bob@example.net,carol@example.net relay=mx.example.net[192.0.2.1]:25 delay=1.53 delays=0.25/0.4/0.88 dsn=2.0.0 status=sent (250 2.0.0 OK queued)\n',
  );
});

test('no host reached: relay=none and zero connection and transmission parts', () => {
  const f = deliveryLogFields({
    queueId: 'Q',
    recipients: ['x@y'],
    reply: 'connection refused',
    dsn: '4.4.1',
    status: 'deferred',
    receivedAt: 0,
    startedAt: 5_000,
    finishedAt: 5_004,
  });
  assert.equal(f['relay'], 'none');
  assert.equal(f['delays'], '5/0/0');
  assert.equal(f['delay'], 5);
});
