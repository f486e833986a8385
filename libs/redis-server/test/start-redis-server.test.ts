import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  probeRedis,
  RedisServerStartError,
  startRedisServer,
  type RedisServerProcess,
} from '../src/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mailbus-redis-server-test-'));
}

test('startRedisServer resolves once redis-server answers PONG, with AOF always in its directory; stop ends it', async () => {
  const dir = tempDir();
  const redis = await startRedisServer({ dir });
  try {
    assert.deepEqual(await probeRedis(redis.port), { ping: '+PONG', pid: redis.child.pid });
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    assert.ok(redis.running);
    assert.ok(existsSync(join(dir, 'appendonlydir')), 'the AOF is in the given directory');
    await redis.stop();
    assert.equal(redis.running, false);
    assert.deepEqual(await probeRedis(redis.port), { ping: '' }, 'nothing answers after stop');
  } finally {
    await redis.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('later arguments override mailbus settings (a memory-only Redis)', async () => {
  const dir = tempDir();
  const redis = await startRedisServer({ dir, args: ['--appendonly', 'no'] });
  try {
    assert.equal(existsSync(join(dir, 'appendonlydir')), false);
  } finally {
    await redis.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a binary that cannot be run rejects at once, naming it', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(
      startRedisServer({ dir, binary: join(dir, 'no-such-redis-server') }),
      (e: unknown) =>
        e instanceof RedisServerStartError &&
        e.reason === 'spawn' &&
        e.message.startsWith(`cannot start ${join(dir, 'no-such-redis-server')}: `),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a redis-server that exits before answering (its port taken by another Redis, which answers PONG) rejects with its exit status, within seconds', async () => {
  const dir = tempDir();
  const first = await startRedisServer({ dir, args: ['--appendonly', 'no'] });
  const started = Date.now();
  try {
    await assert.rejects(
      startRedisServer({ dir, port: first.port, args: ['--appendonly', 'no'] }),
      (e: unknown) =>
        e instanceof RedisServerStartError &&
        e.reason === 'exit' &&
        /redis-server exited with status 1/.test(e.message),
    );
    assert.ok(Date.now() - started < 10_000, 'not after the ready timeout');
  } finally {
    await first.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an aborted start stops the spawned child before it rejects', async () => {
  const dir = tempDir();
  const controller = new AbortController();
  let spawned: RedisServerProcess | undefined;
  try {
    await assert.rejects(
      startRedisServer({
        dir,
        signal: controller.signal,
        onSpawn: (r) => {
          spawned = r;
          controller.abort();
        },
      }),
      (e: unknown) => e instanceof RedisServerStartError && e.reason === 'aborted',
    );
    assert.ok(spawned, 'onSpawn was told of the child');
    assert.equal(spawned.running, false, 'the child has exited');
  } finally {
    await spawned?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
