import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { parseConfig, type Config } from '@mailbus/config';
import { RedisServer } from '@mailbus/testing';
import {
  LOCAL_DELIVERY,
  MailQueue,
  QueueOperationError,
  QueueOperations,
  createWorkerConnection,
  jobId,
  newQueueId,
  type DeliveryJobData,
  type QueueOperationsOptions,
  type RedisClient,
} from '../src/index.js';

const HOUR = 3_600_000;

function configWith(prefix: string): Config {
  const r = parseConfig(`
redis: { prefix: "${prefix}" }
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]:25"] }
virtualServers:
  - { name: default, fqdn: mail.contoso.com, listen: "10.0.0.1:25" }
connectors:
  - name: Internet
    bridgeheads: [default]
    smartHosts: ["[192.0.2.25]"]
    addressSpaces: [{ domain: "*", cost: 1 }]
    partitions: 2
  - name: Backup
    bridgeheads: [default]
    smartHosts: ["[192.0.2.26]"]
    addressSpaces: [{ domain: "*", cost: 2 }]
    delivery: { schedule: never }
  - name: Partner
    bridgeheads: [default]
    smartHosts: ["[192.0.2.27]"]
    addressSpaces: [{ domain: partner.example, cost: 1 }]
    delivery: { remoteTriggered: true }
`);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.reason}`).join('\n'));
  return r.config;
}

interface Fixture {
  queue: MailQueue;
  ops: QueueOperations;
  redis: RedisClient;
  config: Config;
  close: () => Promise<void>;
}

let server: RedisServer;

async function fixture(options: QueueOperationsOptions = {}): Promise<Fixture> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const config = configWith(prefix);
  const redis = createWorkerConnection({ url: server.url });
  const queue = new MailQueue(redis, config, 'test-node');
  const ops = new QueueOperations(queue, options);
  return {
    queue,
    ops,
    redis,
    config,
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** Submits one message to `connector` (plan: connector then the rest); returns its queue id. */
async function submit(
  f: Fixture,
  plan: string[],
  opts: { to?: string[]; receivedAt?: number; headerMessageId?: string } = {},
): Promise<string> {
  const id = newQueueId();
  await f.queue.submit({
    id,
    body: Buffer.from('Subject: hi\r\n\r\nhello\r\n'),
    sender: 'alice@contoso.com',
    receivedAt: opts.receivedAt ?? Date.now(),
    ...(opts.headerMessageId ? { headerMessageId: opts.headerMessageId } : {}),
    priority: 'normal',
    system: false,
    virtualServer: 'default',
    groups: [
      { plan, recipients: (opts.to ?? ['bob@example.net']).map((address) => ({ address })) },
    ],
    trace: {},
    client: { ip: '127.0.0.1', helo: 'client.test', secure: false },
  });
  await f.queue.tracking.record(id, { type: 'received' }, [
    'alice@contoso.com',
    ...(opts.to ?? ['bob@example.net']),
    ...(opts.headerMessageId ? [opts.headerMessageId] : []),
  ]);
  return id;
}

/**
 * A retry job as a bridgehead adds it after every candidate failed: round 1, delayed. With
 * round 0: a job that failed over onto a connector whose schedule is closed.
 */
async function addRetrying(
  f: Fixture,
  connector: string,
  receivedAt: number,
  round = 1,
): Promise<string> {
  const id = newQueueId();
  await f.queue.store.put(id, Buffer.from('x'), 1, {
    sender: 'carol@contoso.com',
    receivedAt: String(receivedAt),
  });
  const data: DeliveryJobData = {
    v: 1,
    messageId: id,
    sender: 'carol@contoso.com',
    recipients: [{ address: 'dave@example.org' }],
    size: 1,
    receivedAt,
    priority: 'normal',
    system: false,
    virtualServer: 'default',
    plan: [connector],
    planIndex: 0,
    round,
    branch: 0,
    hop: 1,
    attempts: [
      { connector, at: receivedAt + 1000, host: '192.0.2.25', result: '451 4.3.0 try later' },
    ],
    trace: {},
    client: { ip: '127.0.0.1', helo: 'client.test', secure: false },
  };
  await f.queue.queues.add(connector, data, jobId(id, 0, 1), HOUR);
  return id;
}

async function stateOf(f: Fixture, connector: string, id: string): Promise<string> {
  for (const q of f.queue.queues.all(connector)) {
    const s = await q.getJobState(id);
    if (s !== 'unknown') return s;
  }
  return 'unknown';
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof QueueOperationError && e.code === code);
}

before(async () => {
  server = await RedisServer.start();
});
after(async () => {
  await server.close();
});

describe('QueueOperations', () => {
  test('connectors lists every connector in config order, @local last, with link state and depth by reason', async () => {
    const f = await fixture();
    try {
      const now = Date.now();
      await submit(f, ['Internet', 'Backup'], { receivedAt: now - 120_000 });
      await submit(f, ['Internet']);
      await submit(f, ['Backup']); // schedule never: delayed by schedule
      await submit(f, ['Partner']); // remote-triggered: held
      await submit(f, [LOCAL_DELIVERY], { to: ['eve@contoso.com'] });
      await addRetrying(f, 'Backup', now - 600_000);
      await f.queue.links.recordFailure(
        'Internet',
        'connect ECONNREFUSED',
        { failuresToMarkDown: 1, downFor: 60_000, maxDownFor: HOUR },
        now,
      );

      const list = await f.ops.connectors(now);
      assert.deepEqual(
        list.map((c) => c.name),
        ['Internet', 'Backup', 'Partner', LOCAL_DELIVERY],
      );
      const [internet, backup, partner, local] = list;
      assert.ok(internet && backup && partner && local);
      assert.deepEqual(internet.queues, ['{Internet}', '{Internet#1}']);
      assert.deepEqual(internet.depth, {
        waiting: 2,
        delayed: 0,
        retrying: 0,
        held: 0,
        active: 0,
        failed: 0,
      });
      assert.equal(internet.link.state, 'down');
      assert.equal(internet.link.lastError, 'connect ECONNREFUSED');
      assert.equal(internet.oldestAgeSeconds, 120);
      assert.equal(internet.frozen, false);
      assert.deepEqual(backup.depth, {
        waiting: 0,
        delayed: 1,
        retrying: 1,
        held: 0,
        active: 0,
        failed: 0,
      });
      assert.equal(backup.oldestAgeSeconds, 600);
      assert.equal(backup.link.state, 'up');
      assert.deepEqual(partner.depth, {
        waiting: 0,
        delayed: 0,
        retrying: 0,
        held: 1,
        active: 0,
        failed: 0,
      });
      assert.equal(partner.remoteTriggered, true);
      assert.equal(local.local, true);
      assert.equal(local.depth.waiting, 1);
      assert.ok(list.every((c) => !c.partial));
    } finally {
      await f.close();
    }
  });

  test('connectors marks the depth partial past scanLimit and counts the unscanned delayed jobs as by schedule', async () => {
    const f = await fixture({ scanLimit: 1 });
    try {
      await submit(f, ['Backup']);
      await submit(f, ['Backup']);
      await addRetrying(f, 'Backup', Date.now());
      const backup = await f.ops.connector('Backup', Date.now());
      assert.equal(backup.partial, true);
      assert.equal(backup.depth.delayed + backup.depth.retrying, 3);
    } finally {
      await f.close();
    }
  });

  test('an unknown connector is a typed error naming the known ones; names are case-insensitive', async () => {
    const f = await fixture();
    try {
      await rejectsWith(f.ops.freeze('Nope'), 'MAILBUS_ERR_UNKNOWN_CONNECTOR');
      await assert.rejects(f.ops.listMessages('Nope'), /known: Internet, Backup, Partner, @local/);
      assert.equal(f.ops.resolve('internet'), 'Internet');
    } finally {
      await f.close();
    }
  });

  test('freeze pauses every partition so mail keeps queueing; unfreeze resumes them', async () => {
    const f = await fixture();
    try {
      await f.ops.freeze('Internet');
      for (const q of f.queue.queues.all('Internet')) assert.equal(await q.isPaused(), true);
      await submit(f, ['Internet']);
      const frozen = await f.ops.connector('Internet', Date.now());
      assert.equal(frozen.frozen, true);
      assert.equal(frozen.depth.waiting, 1);
      await f.ops.unfreeze('Internet');
      for (const q of f.queue.queues.all('Internet')) assert.equal(await q.isPaused(), false);
      assert.equal((await f.ops.connector('Internet', Date.now())).frozen, false);
    } finally {
      await f.close();
    }
  });

  test('retryNow promotes every delayed job (schedule and retry) and forgets the link state', async () => {
    const f = await fixture();
    try {
      const now = Date.now();
      await submit(f, ['Backup']);
      await addRetrying(f, 'Backup', now);
      await f.queue.links.recordFailure(
        'Backup',
        'timeout',
        { failuresToMarkDown: 1, downFor: 60_000, maxDownFor: HOUR },
        now,
      );
      assert.deepEqual(await f.ops.retryNow('Backup'), { promoted: 2, retried: 0 });
      const b = await f.ops.connector('Backup', Date.now());
      assert.deepEqual(b.depth, {
        waiting: 2,
        delayed: 0,
        retrying: 0,
        held: 0,
        active: 0,
        failed: 0,
      });
      assert.equal(b.link.state, 'up');
      assert.equal(b.link.lastError, null);
    } finally {
      await f.close();
    }
  });

  test('retryNow releases the held mail of a remote-triggered connector', async () => {
    const f = await fixture();
    try {
      await submit(f, ['Partner']);
      assert.deepEqual(await f.ops.retryNow('Partner'), { promoted: 1, retried: 0 });
      assert.equal((await f.ops.connector('Partner', Date.now())).depth.waiting, 1);
    } finally {
      await f.close();
    }
  });

  test('listMessages shows sender, recipients, last error, next attempt and state, with limit, offset and state filter', async () => {
    const f = await fixture();
    try {
      const now = Date.now();
      const a = await submit(f, ['Backup'], { to: ['x@example.net', 'y@example.net'] });
      const r = await addRetrying(f, 'Backup', now - 1000);
      const all = await f.ops.listMessages('Backup', {});
      assert.equal(all.length, 2);
      const sched = all.find((m) => m.queueId === a);
      const retry = all.find((m) => m.queueId === r);
      assert.ok(sched && retry);
      assert.equal(sched.jobId, jobId(a, 0, 0));
      assert.equal(sched.queue, '{Backup}');
      assert.equal(sched.state, 'delayed');
      assert.deepEqual(sched.recipients, ['x@example.net', 'y@example.net']);
      assert.equal(sched.sender, 'alice@contoso.com');
      assert.equal(sched.lastError, null);
      assert.ok(sched.nextAttemptAt !== null && sched.nextAttemptAt > now);
      assert.equal(retry.state, 'retrying');
      assert.equal(retry.lastError, '451 4.3.0 try later');
      assert.ok(
        retry.nextAttemptAt !== null && Math.abs(retry.nextAttemptAt - (now + HOUR)) < 5000,
      );
      assert.equal(retry.attempts, 1);

      const page1 = await f.ops.listMessages('Backup', { limit: 1 });
      const page2 = await f.ops.listMessages('Backup', { limit: 1, offset: 1 });
      assert.equal(page1.length, 1);
      assert.equal(page2.length, 1);
      assert.notEqual(page1[0]?.jobId, page2[0]?.jobId);
      assert.deepEqual(await f.ops.listMessages('Backup', { state: 'waiting' }), []);
      // The filter uses the depth's words: delayed (schedule) and retrying are apart.
      const delayed = await f.ops.listMessages('Backup', { state: 'delayed' });
      const retrying = await f.ops.listMessages('Backup', { state: 'retrying' });
      assert.deepEqual(
        delayed.map((m) => m.queueId),
        [a],
      );
      assert.deepEqual(
        retrying.map((m) => m.queueId),
        [r],
      );
      assert.deepEqual(await f.ops.listMessages('Backup', { state: 'retrying', offset: 1 }), []);
      const depth = (await f.ops.connector('Backup', Date.now())).depth;
      assert.equal(depth.delayed, delayed.length);
      assert.equal(depth.retrying, retrying.length);

      await submit(f, ['Internet']);
      await submit(f, ['Internet']);
      const internet = await f.ops.listMessages('Internet', { state: 'waiting' });
      assert.equal(internet.length, 2);
      assert.ok(internet.every((m) => m.state === 'waiting' && m.nextAttemptAt === null));
    } finally {
      await f.close();
    }
  });

  test('a job that failed over onto a closed schedule is delayed (by schedule), not retrying', async () => {
    const f = await fixture();
    try {
      const id = await addRetrying(f, 'Backup', Date.now() - 1000, 0);
      const [m] = await f.ops.listMessages('Backup', {});
      assert.equal(m?.queueId, id);
      assert.equal(m?.attempts, 1);
      assert.equal(m?.state, 'delayed');
      const depth = (await f.ops.connector('Backup', Date.now())).depth;
      assert.deepEqual([depth.delayed, depth.retrying], [1, 0]);
    } finally {
      await f.close();
    }
  });

  test('listMessages refuses a bad state, limit or offset', async () => {
    const f = await fixture();
    try {
      await rejectsWith(
        f.ops.listMessages('Internet', { state: 'bogus' as 'waiting' }),
        'MAILBUS_ERR_BAD_ARGUMENT',
      );
      await rejectsWith(f.ops.listMessages('Internet', { limit: 0 }), 'MAILBUS_ERR_BAD_ARGUMENT');
      await rejectsWith(f.ops.listMessages('Internet', { offset: -1 }), 'MAILBUS_ERR_BAD_ARGUMENT');
    } finally {
      await f.close();
    }
  });

  test('deleteMessage without DSN removes the job, releases the body and records a deleted event', async () => {
    const f = await fixture();
    try {
      const id = await submit(f, ['Backup']);
      const jid = jobId(id, 0, 0);
      assert.deepEqual(await f.ops.deleteMessage('Backup', jid, { dsn: false }), {
        queueId: id,
        jobId: jid,
        dsn: false,
      });
      assert.equal(await stateOf(f, 'Backup', jid), 'unknown');
      assert.equal(await f.queue.store.exists(id), false);
      const events = await f.queue.tracking.history(id);
      const deleted = events.find((e) => e.type === 'deleted');
      assert.equal(deleted?.connector, 'Backup');
      assert.match(deleted?.detail ?? '', /no DSN/);
      await rejectsWith(
        f.ops.deleteMessage('Backup', jid, { dsn: false }),
        'MAILBUS_ERR_UNKNOWN_JOB',
      );
    } finally {
      await f.close();
    }
  });

  test('deleteMessage keeps the body while another branch of the message still needs it', async () => {
    const f = await fixture();
    try {
      const id = newQueueId();
      await f.queue.submit({
        id,
        body: Buffer.from('x'),
        sender: 'alice@contoso.com',
        receivedAt: Date.now(),
        priority: 'normal',
        system: false,
        virtualServer: 'default',
        groups: [
          { plan: ['Internet'], recipients: [{ address: 'a@example.net' }] },
          { plan: ['Partner'], recipients: [{ address: 'b@partner.example' }] },
        ],
        trace: {},
        client: { ip: '127.0.0.1', helo: 'c', secure: false },
      });
      await f.ops.deleteMessage('Partner', jobId(id, 1, 0), { dsn: false });
      assert.equal(await f.queue.store.exists(id), true);
    } finally {
      await f.close();
    }
  });

  test('deleteMessage with DSN calls sendDsn with the job data and reason after removing the job', async () => {
    const sent: Array<{ job: DeliveryJobData; reason: string }> = [];
    const f = await fixture({
      sendDsn: async (job, reason) => {
        sent.push({ job, reason });
      },
    });
    try {
      const id = await submit(f, ['Backup']);
      await f.ops.deleteMessage('Backup', jobId(id, 0, 0), { dsn: true, reason: 'spam run' });
      assert.equal(sent.length, 1);
      assert.equal(sent[0]?.job.messageId, id);
      assert.equal(sent[0]?.reason, 'spam run');
      assert.equal(await stateOf(f, 'Backup', jobId(id, 0, 0)), 'unknown');
    } finally {
      await f.close();
    }
  });

  test('deleteMessage with DSN but no sendDsn wired is refused and leaves the job', async () => {
    const f = await fixture();
    try {
      const id = await submit(f, ['Backup']);
      await assert.rejects(
        f.ops.deleteMessage('Backup', jobId(id, 0, 0), { dsn: true }),
        (e: unknown) =>
          e instanceof QueueOperationError &&
          e.code === 'MAILBUS_ERR_DSN_NOT_WIRED' &&
          /not wired/.test(e.message),
      );
      assert.equal(await stateOf(f, 'Backup', jobId(id, 0, 0)), 'delayed');
    } finally {
      await f.close();
    }
  });

  test('deleteMessage reports MAILBUS_ERR_DSN_FAILED when the DSN cannot be sent', async () => {
    const f = await fixture({ sendDsn: () => Promise.reject(new Error('no route')) });
    try {
      const id = await submit(f, ['Backup']);
      await rejectsWith(
        f.ops.deleteMessage('Backup', jobId(id, 0, 0), { dsn: true }),
        'MAILBUS_ERR_DSN_FAILED',
      );
    } finally {
      await f.close();
    }
  });

  test('a job being delivered can be neither deleted nor moved', async () => {
    const f = await fixture();
    // BullMQ leaves a connection it was given open on close(): disconnect it ourselves.
    const workerConnection = createWorkerConnection({ url: server.url });
    const worker = new Worker<DeliveryJobData>('{Backup}', null, {
      connection: workerConnection,
      prefix: f.config.redis.prefix,
      autorun: false,
    });
    try {
      const id = newQueueId();
      await f.queue.store.put(id, Buffer.from('x'), 1, {});
      const data: DeliveryJobData = {
        v: 1,
        messageId: id,
        sender: 'a@contoso.com',
        recipients: [{ address: 'b@example.net' }],
        size: 1,
        receivedAt: Date.now(),
        priority: 'normal',
        system: false,
        virtualServer: 'default',
        plan: ['Backup'],
        planIndex: 0,
        round: 0,
        branch: 0,
        hop: 0,
        attempts: [],
        trace: {},
        client: { ip: '127.0.0.1', helo: 'c', secure: false },
      };
      await f.queue.queues.add('Backup', data, jobId(id, 0, 0), 0);
      const job = await worker.getNextJob('token-1');
      assert.equal(job?.id, jobId(id, 0, 0));
      await rejectsWith(
        f.ops.deleteMessage('Backup', jobId(id, 0, 0), { dsn: false }),
        'MAILBUS_ERR_JOB_ACTIVE',
      );
      await rejectsWith(
        f.ops.moveMessage('Backup', jobId(id, 0, 0), 'Internet'),
        'MAILBUS_ERR_JOB_ACTIVE',
      );
      assert.equal((await f.ops.listMessages('Backup', { state: 'active' })).length, 1);
      assert.equal((await f.ops.connector('Backup', Date.now())).depth.active, 1);
      assert.deepEqual(await f.ops.moveQueue('Backup', 'Internet'), { moved: 0, skipped: 0 });
    } finally {
      await worker.close(true);
      workerConnection.disconnect();
      await f.close();
    }
  });

  test('moveMessage re-adds the job on the target as <id>m with the target first and the rest of the plan after it, removes the old, records moved', async () => {
    const f = await fixture();
    try {
      const id = await submit(f, ['Backup', 'Internet', 'Partner']);
      const old = jobId(id, 0, 0);
      const r = await f.ops.moveMessage('Backup', old, 'Internet');
      assert.deepEqual(r, {
        queueId: id,
        from: 'Backup',
        to: 'Internet',
        oldJobId: old,
        newJobId: `${old}m`,
      });
      assert.equal(await stateOf(f, 'Backup', old), 'unknown');
      assert.equal(await stateOf(f, 'Internet', `${old}m`), 'waiting');
      const [moved] = await f.ops.listMessages('Internet', {});
      assert.deepEqual(moved?.plan, ['Internet', 'Backup', 'Partner']);
      assert.equal(moved?.planIndex, 0);
      assert.equal(await f.queue.store.exists(id), true);
      const events = await f.queue.tracking.history(id);
      assert.ok(
        events.some(
          (e) =>
            e.type === 'moved' && e.connector === 'Internet' && /from Backup/.test(e.detail ?? ''),
        ),
      );
    } finally {
      await f.close();
    }
  });

  test('moving onto a scheduled or remote-triggered connector delays the job there', async () => {
    const f = await fixture();
    try {
      const id = await submit(f, ['Internet']);
      await f.ops.moveMessage('Internet', jobId(id, 0, 0), 'Partner');
      const [held] = await f.ops.listMessages('Partner', {});
      assert.equal(held?.state, 'held');
    } finally {
      await f.close();
    }
  });

  test('moves to itself, to or from @local, or of an unknown job are refused', async () => {
    const f = await fixture();
    try {
      const id = await submit(f, ['Internet']);
      await rejectsWith(
        f.ops.moveMessage('Internet', jobId(id, 0, 0), 'internet'),
        'MAILBUS_ERR_BAD_MOVE',
      );
      await rejectsWith(
        f.ops.moveMessage('Internet', jobId(id, 0, 0), LOCAL_DELIVERY),
        'MAILBUS_ERR_BAD_MOVE',
      );
      await rejectsWith(f.ops.moveQueue(LOCAL_DELIVERY, 'Internet'), 'MAILBUS_ERR_BAD_MOVE');
      await rejectsWith(
        f.ops.moveMessage('Internet', 'nope.0.0', 'Backup'),
        'MAILBUS_ERR_UNKNOWN_JOB',
      );
      await rejectsWith(
        f.ops.moveMessage('Internet', jobId(id, 0, 0), 'Nope'),
        'MAILBUS_ERR_UNKNOWN_CONNECTOR',
      );
    } finally {
      await f.close();
    }
  });

  test('moveQueue moves every waiting and delayed job of every partition', async () => {
    const f = await fixture();
    try {
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await submit(f, ['Internet', 'Backup']));
      await addRetrying(f, 'Internet', Date.now());
      assert.deepEqual(await f.ops.moveQueue('Internet', 'Backup'), { moved: 7, skipped: 0 });
      const internet = await f.ops.connector('Internet', Date.now());
      const backup = await f.ops.connector('Backup', Date.now());
      assert.equal(internet.depth.waiting + internet.depth.delayed + internet.depth.retrying, 0);
      assert.equal(backup.depth.delayed + backup.depth.retrying, 7);
      for (const id of ids)
        assert.equal(await stateOf(f, 'Backup', `${jobId(id, 0, 0)}m`), 'delayed');
    } finally {
      await f.close();
    }
  });

  test('message finds a message by queue id, Message-ID, sender or recipient with its history and jobs', async () => {
    const f = await fixture();
    try {
      const id = await submit(f, ['Backup'], {
        to: ['zed@example.net'],
        headerMessageId: 'abc@contoso.com',
      });
      for (const term of [id, 'abc@contoso.com', '<abc@contoso.com>', 'zed@example.net']) {
        const found = await f.ops.message(term);
        assert.equal(found.length, 1, term);
        assert.equal(found[0]?.queueId, id);
        assert.deepEqual(
          found[0]?.history.map((e) => e.type),
          ['received'],
        );
        assert.deepEqual(
          found[0]?.jobs.map((j) => [j.connector, j.jobId, j.state]),
          [['Backup', jobId(id, 0, 0), 'delayed']],
        );
      }
      await f.ops.moveMessage('Backup', jobId(id, 0, 0), 'Internet');
      const [after] = await f.ops.message(id);
      assert.deepEqual(
        after?.jobs.map((j) => [j.connector, j.jobId]),
        [['Internet', `${jobId(id, 0, 0)}m`]],
      );
      assert.deepEqual(
        after?.history.map((e) => e.type),
        ['received', 'moved'],
      );
      await rejectsWith(f.ops.message('nobody@nowhere.example'), 'MAILBUS_ERR_UNKNOWN_MESSAGE');
    } finally {
      await f.close();
    }
  });
});
