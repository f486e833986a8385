import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisServer, sleep, waitFor } from '@mailbus/testing';
import {
  createProducerConnection,
  reconnectDelay,
  type ConnectionEndedHandler,
  type RedisClient,
} from '../src/index.js';

/** The ioredis internals a failover detector reaches: its connector. */
function connectorOf(client: RedisClient): { disconnect(): void } {
  return (client as unknown as { connector: { disconnect(): void } }).connector;
}

describe('a Redis connection that ends without being closed is connected again', () => {
  let server: RedisServer;
  before(async () => {
    server = await RedisServer.start({ aof: false });
  });
  after(async () => {
    await server.close();
  });

  test('the connector closed while connecting (what +switch-master does) ends the client; it is connected again and the handler told', async () => {
    const ended: Array<Parameters<ConnectionEndedHandler>[0]> = [];
    const client = createProducerConnection({ url: server.url }, 1000, (e) => ended.push(e));
    try {
      await waitFor(() => client.status === 'ready', { what: 'ready' });
      await server.kill();
      // The next connect attempt: close its connector as ioredis's failover
      // detector does, while connect() is under way.
      await new Promise<void>((resolve) =>
        client.once('connecting', () => {
          connectorOf(client).disconnect();
          resolve();
        }),
      );
      await waitFor(() => ended.length > 0, { what: 'the end to be reported' });
      assert.equal(ended[0]?.connection, 'producer');
      assert.equal(ended[0]?.attempt, 1);
      assert.equal(ended[0]?.delayMs, reconnectDelay(1));
      assert.match(ended[0]?.reason ?? '', /Connection is closed/);
      await server.restart();
      await waitFor(() => client.status === 'ready', { timeoutMs: 10_000, what: 'ready again' });
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.disconnect();
    }
  });

  test('quit() and disconnect() close for good: nothing connects again', async () => {
    for (const close of [(c: RedisClient) => void c.quit(), (c: RedisClient) => c.disconnect()]) {
      const ended: unknown[] = [];
      const client = createProducerConnection({ url: server.url }, 1000, (e) => ended.push(e));
      await waitFor(() => client.status === 'ready', { what: 'ready' });
      close(client);
      await waitFor(() => client.status === 'end', { what: 'end' });
      // Longer than the first reconnect delay: a revived client would be connecting by now.
      await sleep(reconnectDelay(1) * 3);
      assert.equal(client.status, 'end');
      assert.deepEqual(ended, []);
    }
  });

  test('the delay grows by 100 ms per consecutive end, at most 1 s', () => {
    assert.deepEqual([0, 1, 2, 5, 10, 50].map(reconnectDelay), [100, 100, 200, 500, 1000, 1000]);
  });
});
