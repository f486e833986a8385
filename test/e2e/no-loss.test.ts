import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  prng,
  relayToSinkConfig,
  SmtpDialog,
  sleep,
  waitFor,
  type RedisServer,
  type SinkServer,
} from '@mailbus/testing';
import { GatewayFixture } from './support/gateway-fixture.js';

const N = Number(process.env.MAILBUS_NO_LOSS_N ?? 5000);
const SESSIONS = 20;
const DROP_RATE = 0.01;
const DEADLINE_MS = 150_000;

describe('no-loss accounting under load with a Redis restart and a smart host that drops connections', () => {
  let f: GatewayFixture<'sink', 'port'>;
  let redis: RedisServer;
  let sink: SinkServer;
  let port: number;
  let drops = 0;
  const seed = Number(process.env.MAILBUS_NO_LOSS_SEED ?? 20240607);
  const random = prng(seed);

  before(async () => {
    f = await GatewayFixture.start({
      sinks: {
        sink: {
          onData: () => {
            if (random() < DROP_RATE) {
              drops++;
              return 'drop';
            }
            return undefined;
          },
        },
      },
      ports: ['port'],
      config: ({ redis, sinks: { sink }, ports }) =>
        relayToSinkConfig({
          redis: `url: "${redis.url}", commandTimeout: 2s`,
          port: ports.port,
          sinkPort: sink.port,
          concurrency: 40,
        }),
    });
    ({
      redis,
      sinks: { sink },
      ports: { port },
    } = f);
  });

  after(() => f?.close());

  test(`every one of ${N} messages answered 250 is delivered at least once (lost = 0)`, async () => {
    const started = Date.now();
    const accepted = new Set<string>();
    let refused = 0;
    let next = 0;
    let restarted = false;
    const restartAt = Math.floor(N * 0.4);

    const client = async (n: number): Promise<void> => {
      let dialog: SmtpDialog | undefined;
      const open = async (): Promise<SmtpDialog> => {
        const { dialog: d } = await SmtpDialog.open(port);
        await d.send('EHLO load.test');
        return d;
      };
      while (next < N && Date.now() - started < DEADLINE_MS) {
        const i = next++;
        const id = `<nl-${i}-${n}@load.test>`;
        const raw = `From: a@load.test\r\nTo: b@dest.example\r\nSubject: load ${i}\r\nMessage-ID: ${id}\r\n\r\nmessage ${i}\r\n`;
        for (let attempt = 0; attempt < 60 && Date.now() - started < DEADLINE_MS; attempt++) {
          try {
            dialog ??= await open();
            const m = await dialog.send('MAIL FROM:<a@load.test>', 5000);
            const r = m.code === 250 ? await dialog.send('RCPT TO:<b@dest.example>', 5000) : m;
            const d = r.code === 250 ? await dialog.data(raw) : r;
            if (d.code === 250) {
              accepted.add(id);
              break;
            }
            refused++;
            if (d.code !== 451 && d.code !== 452 && d.code !== 421)
              throw new Error(`unexpected reply ${d.lines.join(' ')}`);
            if (r.code !== 250 || m.code !== 250 || d.code === 421) {
              dialog.close();
              dialog = undefined;
            } else await dialog.send('RSET', 5000);
          } catch (e) {
            if (e instanceof Error && e.message.startsWith('unexpected reply')) throw e;
            dialog?.close();
            dialog = undefined;
          }
          // A client's back-off before it tries the message again (part of the load, not a wait).
          await sleep(100 + attempt * 50);
        }
      }
      await dialog?.quit();
    };

    const chaos = (async () => {
      await waitFor(() => next >= restartAt, {
        timeoutMs: DEADLINE_MS,
        intervalMs: 20,
        what: `message ${restartAt} to be sent`,
      });
      restarted = true;
      await redis.stop();
      // The outage lasts a second: the scenario, not a wait for something.
      await sleep(1000);
      await redis.restart();
    })();

    await Promise.all([...Array.from({ length: SESSIONS }, (_, n) => client(n)), chaos]);
    const sentAt = Date.now();
    const delivered = () => {
      const ids = new Map<string, number>();
      for (const m of sink.messages) {
        const id = /^Message-ID: (<[^>]+>)/im.exec(m.raw.toString('latin1'))?.[1];
        if (id) ids.set(id, (ids.get(id) ?? 0) + 1);
      }
      return ids;
    };
    // Every accepted message at the sink, or the deadline (then the lost ones are counted below).
    await waitFor(
      () => {
        const d = delivered();
        return [...accepted].every((id) => d.has(id));
      },
      { timeoutMs: Math.max(0, started + DEADLINE_MS + 20_000 - Date.now()), intervalMs: 250 },
    ).catch(() => undefined);
    const d = delivered();
    const lost = [...accepted].filter((id) => !d.has(id));
    const duplicated = [...d.values()].reduce((sum, c) => sum + (c - 1), 0);
    const unexpected = [...d.keys()].filter((id) => !accepted.has(id)).length;
    console.log(
      `accepted=${accepted.size} delivered=${d.size} duplicated=${duplicated} lost=${lost.length} ` +
        `(refused-and-retried=${refused} smart-host-drops=${drops} delivered-but-not-acknowledged=${unexpected} redis-restarted=${restarted} ` +
        `send=${((sentAt - started) / 1000).toFixed(1)}s drain=${((Date.now() - sentAt) / 1000).toFixed(1)}s seed=${seed})`,
    );
    assert.ok(restarted, 'Redis was restarted mid-run');
    assert.ok(
      accepted.size >= N * 0.99,
      `almost every message was accepted (${accepted.size}/${N})`,
    );
    assert.deepEqual(lost.slice(0, 10), [], 'no accepted message is lost');
    assert.equal(lost.length, 0);
  });
});
