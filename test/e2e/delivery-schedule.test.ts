import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, sendMail, waitFor, type SinkServer } from '@mailbus/testing';
import { jobId, QueueOperations } from '@mailbus/queue';
import { queuedId } from './delivery-helpers.js';
import { GatewayFixture, type FixtureParts } from './support/gateway-fixture.js';

const SLOT = 15 * 60_000;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hhmm = (d: Date) =>
  `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;

/** A 15-minute weekly window (UTC) that opens about two hours from now: closed now. */
function closedWindow(now: number): { spec: string; opensAt: number } {
  let start = Math.ceil(now / SLOT) * SLOT + 2 * 3_600_000;
  if (new Date(start).getUTCHours() === 23 && new Date(start).getUTCMinutes() === 45) start += SLOT;
  const d = new Date(start);
  return {
    spec: `${DAYS[d.getUTCDay()]} ${hhmm(d)}-${hhmm(new Date(start + SLOT))}`,
    opensAt: start,
  };
}

describe('delivery schedules and the oversize window', () => {
  let f: GatewayFixture<'sink', 'ingress'>;
  let sink: SinkServer;
  let ingress: number;
  const window = closedWindow(Date.now());
  const yaml =
    (oversizeSchedule: string) =>
    ({ redis, sinks: { sink }, ports }: FixtureParts<'sink', 'ingress'>) => `
organization: Test
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - name: hub
    listen: 127.0.0.1:${ports.ingress}
    fqdn: hub.mailbus.test
    maxMessageSizeKB: 1024
    relay: { allow: [127.0.0.0/8] }
connectors:
  - name: Branch
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: branch.example }]
    delivery:
      schedule: always
      oversize: { thresholdKB: 50, schedule: ${oversizeSchedule} }
  - name: Parked
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [hub]
    addressSpaces: [{ domain: parked.example }]
    delivery: { schedule: never }
`;
  let bigId = '';

  before(async () => {
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      ports: ['ingress'],
      config: yaml(`"${window.spec}"`),
    });
    ({
      sinks: { sink },
      ports: { ingress },
    } = f);
  });

  after(() => f?.close());

  async function send(to: string, subject: string, body?: string): Promise<string> {
    const r = await sendMail({
      port: ingress,
      from: 'alice@sender.test',
      to: [to],
      raw: makeMessage({ from: 'alice@sender.test', to, subject, ...(body ? { body } : {}) }),
    });
    return queuedId(r.response);
  }
  const has = (subject: string) =>
    sink.messages.some((m) => m.raw.includes(`Subject: ${subject}\r\n`));

  /** When a delayed job is due, from BullMQ's delayed set (score = timestamp * 0x1000 + counter). */
  async function dueAt(connector: string, id: string): Promise<number | undefined> {
    const q = f.queue;
    const score = await q.redis.zscore(
      `${q.keys.prefix}:${q.keys.queueName(connector)}:delayed`,
      id,
    );
    return score === null ? undefined : Math.floor(Number(score) / 0x1000);
  }

  test('a message over the oversize threshold waits as a delayed job until the oversize window opens, while small mail flows', async () => {
    bigId = await send('big@branch.example', 'big-one', `${'x'.repeat(998)}\n`.repeat(60));
    await send('small@branch.example', 'small-one');
    await waitFor(() => has('small-one'), { timeoutMs: 10_000, what: 'the small message' });
    const job = await f.queue.queues.queue('Branch').getJob(jobId(bigId, 0, 0));
    assert.ok(job);
    assert.equal(await job.getState(), 'delayed');
    const due = await dueAt('Branch', job.id as string);
    assert.ok(
      due !== undefined && Math.abs(due - window.opensAt) < 2000,
      `due at the window's start ${new Date(window.opensAt).toISOString()}, got ${due ? new Date(due).toISOString() : 'none'}`,
    );
    assert.ok(!has('big-one'));
  });

  test('a held oversize job picked up while its window is still closed goes back to waiting until the same opening', async () => {
    const q = f.queue.queues.queue('Branch');
    const job = await q.getJob(jobId(bigId, 0, 0));
    assert.ok(job);
    await job.promote();
    await waitFor(
      async () =>
        (await job.getState()) === 'delayed' &&
        (await dueAt('Branch', job.id as string)) !== undefined,
      { timeoutMs: 10_000, intervalMs: 100, what: 'the job back in delayed' },
    );
    const due = await dueAt('Branch', job.id as string);
    assert.ok(due !== undefined && Math.abs(due - window.opensAt) < 2000);
    // Back in delayed means the bridgehead picked it up and chose to wait: it did not send it.
    assert.ok(!has('big-one'), 'not delivered outside its window');
  });

  test('schedule: never holds mail', async () => {
    const id = await send('someone@parked.example', 'parked');
    const job = await f.queue.queues.queue('Parked').getJob(jobId(id, 0, 0));
    assert.ok(job);
    assert.equal(await job.getState(), 'delayed');
    // Not a pause: the job is due no earlier than the message's expiry (2 days by default), so
    // no bridgehead takes it before then.
    const due = await dueAt('Parked', job.id as string);
    assert.ok(
      due !== undefined && due >= job.data.receivedAt + 2 * 86_400_000 - 1000,
      `due at expiry, got ${due ? new Date(due).toISOString() : 'none'}`,
    );
    assert.ok(!has('parked'));
  });

  test('retry now (Force connection) delivers mail a closed schedule holds, and the schedule holds again afterwards', async () => {
    const id = await send('someone@parked.example', 'forced');
    const q = f.queue;
    const job = await q.queues.queue('Parked').getJob(jobId(id, 0, 0));
    assert.equal(await job?.getState(), 'delayed');
    const ops = new QueueOperations(q);
    const r = await ops.retryNow('Parked');
    assert.ok(r.promoted >= 1);
    await sink.waitForMessages(sink.messages.length + 1);
    await waitFor(() => has('forced'), {
      timeoutMs: 10_000,
      what: 'the forced message at the sink',
    });
    await q.forced.close('Parked');
    const later = await send('someone@parked.example', 'after force');
    const laterJob = await q.queues.queue('Parked').getJob(jobId(later, 0, 0));
    assert.equal(await laterJob?.getState(), 'delayed');
  });

  test('once the oversize window is open, the held message is delivered when its job comes due', async () => {
    // The operator opens the window (config change and restart), then "retry now".
    await f.restart(yaml('always'));
    const job = await f.queue.queues.queue('Branch').getJob(jobId(bigId, 0, 0));
    assert.ok(job);
    await job.promote();
    await waitFor(() => has('big-one'), { timeoutMs: 15_000, what: 'the big message' });
    const msg = sink.messages.find((m) => m.raw.includes('Subject: big-one\r\n'));
    assert.ok(msg && msg.raw.length > 50 * 1024);
  });
});
