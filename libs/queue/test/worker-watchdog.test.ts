import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker } from 'bullmq';
import { RedisServer, waitFor } from '@mailbus/testing';
import {
  createWorkerConnection,
  WorkerWatchdog,
  workerStopped,
  type RedisClient,
  type WorkerObservation,
} from '../src/index.js';

const OK: WorkerObservation = {
  now: 100_000,
  running: true,
  ready: 5,
  inFlight: 0,
  concurrency: 2,
  lastFetchAt: 95_000,
};

describe('workerStopped', () => {
  test('a worker whose fetch loop ended is stopped', () => {
    assert.equal(workerStopped({ ...OK, running: false }, 30_000), 'its fetch loop ended');
  });
  test('ready jobs untaken with free slots past the limit is stuck; before it, or busy, or empty, or Redis silent, is not', () => {
    assert.equal(workerStopped(OK, 5_000), '5 jobs ready and 2 free slots, none taken for 5 s');
    assert.equal(workerStopped(OK, 5_001), undefined);
    assert.equal(workerStopped({ ...OK, inFlight: 2 }, 1000), undefined);
    assert.equal(workerStopped({ ...OK, ready: 0 }, 1000), undefined);
    assert.equal(workerStopped({ ...OK, ready: undefined }, 1000), undefined);
  });
});

describe('WorkerWatchdog with a real BullMQ worker', () => {
  let server: RedisServer;
  let connection: RedisClient;
  before(async () => {
    server = await RedisServer.start({ aof: false });
    connection = createWorkerConnection({ url: server.url });
  });
  after(async () => {
    connection.disconnect();
    await server.close();
  });

  test('a worker that stopped fetching is replaced by a new one that takes the waiting jobs; the restart is reported', async () => {
    const name = 'watchdog-test';
    const queue = new Queue(name, { connection });
    const processed: string[] = [];
    const restarts: Array<{ queue: string; reason: string }> = [];
    const dog = new WorkerWatchdog({
      concurrency: 2,
      intervalMs: 100,
      stuckAfterMs: 2000,
      readyJobs: () => queue.getJobCountByTypes('wait', 'prioritized'),
      onRestart: (e) => restarts.push(e),
      create: (track) =>
        new Worker(
          name,
          (job) =>
            track(async () => {
              processed.push(String(job.id));
            }),
          { connection, concurrency: 2 },
        ),
    });
    try {
      await dog.worker.waitUntilReady();
      await queue.add('x', {}, { jobId: 'before' });
      await waitFor(() => processed.includes('before'), { what: 'the first job' });
      const first = dog.worker;
      // Its fetch loop ends (as when BullMQ's run() gives up): nothing is fetched any more.
      await first.pause(true);
      await waitFor(() => !first.isRunning(), { what: 'the fetch loop to end' });
      await queue.add('x', {}, { jobId: 'after' });
      await waitFor(() => processed.includes('after'), {
        timeoutMs: 10_000,
        what: 'the job after',
      });
      assert.notEqual(dog.worker, first);
      assert.deepEqual(restarts, [{ queue: name, reason: 'its fetch loop ended' }]);
    } finally {
      await dog.close();
      await queue.close();
    }
  });
});
