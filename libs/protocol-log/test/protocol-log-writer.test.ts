import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultProtocolLogFields } from '@mailbus/config';
import type { ProtocolLogField } from '@mailbus/config';
import {
  OUTBOUND_COMMAND,
  OUTBOUND_RESPONSE,
  ProtocolLogWriter,
  redactCommand,
} from '../src/index.js';
import type { ProtocolLogEntry, ProtocolLogWriterOptions } from '../src/index.js';
import { decodeValue, readW3C } from './strict-w3c-reader.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailbus-plog-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
function clock(iso: string): { now: () => number; set: (iso: string) => void } {
  let t = Date.parse(iso);
  return { now: () => t, set: (next) => (t = Date.parse(next)) };
}

function writer(options: Partial<ProtocolLogWriterOptions> = {}): ProtocolLogWriter {
  return new ProtocolLogWriter({
    directory: root,
    virtualServer: 'default',
    computerName: 'MAIL1',
    period: 'daily',
    localTimeForNaming: false,
    fields: defaultProtocolLogFields,
    ...options,
  });
}

const files = async (): Promise<string[]> => (await readdir(join(root, 'default'))).sort();
const read = (name: string): Promise<string> => readFile(join(root, 'default', name), 'utf8');

const inbound = (over: ProtocolLogEntry = {}): ProtocolLogEntry => ({
  cIp: '192.0.2.10',
  csUsername: 'client.example',
  sIp: '10.0.0.1',
  sPort: 25,
  csMethod: 'MAIL',
  csUriQuery: 'FROM:<alice@contoso.com> SIZE=1024',
  scStatus: 250,
  scBytes: 38,
  csBytes: 42,
  timeTaken: 3,
  ...over,
});

describe('ProtocolLogWriter', () => {
  test('starts the file with #Software, #Version, #Date, #Fields and writes one line per entry', async () => {
    const c = clock('2026-03-07T09:15:42.900Z');
    const log = writer({ now: c.now });
    log.write(inbound());
    log.write({
      cIp: '198.51.100.7',
      csUsername: OUTBOUND_RESPONSE,
      csMethod: '-',
      csUriQuery: '250 2.0.0 OK queued as 12345',
      scStatus: 250,
    });
    await log.close();

    assert.deepEqual(await files(), ['ex260307.log']);
    const text = await read('ex260307.log');
    assert.ok(text.startsWith('#Software: mailbus '), text);
    const [block, ...more] = readW3C(text);
    assert.equal(more.length, 0);
    assert.ok(block);
    assert.equal(block.version, '1.0');
    assert.equal(block.date, '2026-03-07 09:15:42');
    assert.deepEqual(block.fields, [...defaultProtocolLogFields]);
    assert.deepEqual(block.rows[0], {
      date: '2026-03-07',
      time: '09:15:42',
      'c-ip': '192.0.2.10',
      'cs-username': 'client.example',
      's-sitename': 'default',
      's-computername': 'MAIL1',
      's-ip': '10.0.0.1',
      's-port': '25',
      'cs-method': 'MAIL',
      'cs-uri-query': 'FROM:<alice@contoso.com>+SIZE=1024',
      'sc-status': '250',
      'sc-bytes': '38',
      'cs-bytes': '42',
      'time-taken': '3',
    });
    assert.equal(block.rows[1]?.['cs-username'], 'OutboundConnectionResponse');
    assert.equal(block.rows[1]?.['cs-uri-query'], '250+2.0.0+OK+queued+as+12345');
    assert.equal(block.rows[1]?.['s-ip'], '-');
  });

  test('round-trips awkward values through the escaping rule, one value per field', async () => {
    const log = writer({ now: clock('2026-03-07T00:00:00Z').now });
    const nasty = [
      '550 5.7.1 Unable to relay for a+b@contoso.com',
      '100% done',
      'bare\r\nCRLF and \x00 NUL and \t tab',
      '-',
      '',
      'ünïcödé ✉',
      ' two  spaces ',
    ];
    for (const q of nasty) log.write(inbound({ csUriQuery: q, csUsername: q }));
    await log.close();
    const [block] = readW3C(await read('ex260307.log'));
    assert.ok(block);
    assert.deepEqual(
      block.rows.map((r) => decodeValue(r['cs-uri-query'] ?? '')),
      nasty,
    );
    assert.deepEqual(
      block.rows.map((r) => decodeValue(r['cs-username'] ?? '')),
      nasty,
    );
  });

  test('writes a redacted AUTH command and continuation, never the payload', async () => {
    const log = writer({ now: clock('2026-03-07T00:00:00Z').now });
    const auth = redactCommand('AUTH', 'PLAIN AGFsaWNlAHNlY3JldA==');
    log.write(inbound({ csMethod: auth.method, csUriQuery: auth.args, scStatus: 334 }));
    const cont = redactCommand('c2VjcmV0', '', { authContinuation: true });
    log.write(inbound({ csMethod: cont.method, csUriQuery: cont.args, scStatus: 235 }));
    await log.close();
    const text = await read('ex260307.log');
    assert.doesNotMatch(text, /AGFsaWNl|c2VjcmV0/);
    const rows = readW3C(text)[0]?.rows ?? [];
    assert.deepEqual(
      rows.map((r) => [r['cs-method'], r['cs-uri-query']]),
      [
        ['AUTH', 'PLAIN+****'],
        ['-', '****'],
      ],
    );
  });

  test('uses UTC for date and time in the lines whatever the naming', async () => {
    const log = writer({ now: clock('2026-07-01T23:30:05Z').now });
    log.write(inbound({ time: Date.parse('2026-07-01T23:30:06.999Z') }));
    await log.close();
    const row = readW3C(await read('ex260701.log'))[0]?.rows[0];
    assert.equal(row?.date, '2026-07-01');
    assert.equal(row?.time, '23:30:06');
  });

  describe('rollover', () => {
    const cases: Array<{
      period: ProtocolLogWriterOptions['period'];
      times: string[];
      names: string[];
    }> = [
      {
        period: 'hourly',
        times: [
          '2026-03-07T09:00:00Z',
          '2026-03-07T09:59:59Z',
          '2026-03-07T10:00:00Z',
          '2026-03-08T00:00:01Z',
        ],
        names: ['ex26030709.log', 'ex26030710.log', 'ex26030800.log'],
      },
      {
        period: 'daily',
        times: ['2026-03-07T00:00:00Z', '2026-03-07T23:59:59Z', '2026-03-08T00:00:00Z'],
        names: ['ex260307.log', 'ex260308.log'],
      },
      {
        // August 2026 starts on a Saturday: week 2 starts Sunday the 2nd.
        period: 'weekly',
        times: [
          '2026-08-01T10:00:00Z',
          '2026-08-02T00:00:00Z',
          '2026-08-08T23:59:59Z',
          '2026-08-09T00:00:00Z',
          '2026-08-31T00:00:00Z',
          '2026-09-01T00:00:00Z',
        ],
        names: ['ex260801.log', 'ex260802.log', 'ex260803.log', 'ex260806.log', 'ex260901.log'],
      },
      {
        period: 'monthly',
        times: ['2026-12-31T23:59:59Z', '2027-01-01T00:00:00Z'],
        names: ['ex2612.log', 'ex2701.log'],
      },
      {
        period: 'unlimited',
        times: ['2026-12-31T23:59:59Z', '2027-01-01T00:00:00Z', '2028-06-01T00:00:00Z'],
        names: ['extend1.log'],
      },
    ];
    for (const { period, times, names } of cases) {
      test(`${period}: ${names.join(', ')}`, async () => {
        const c = clock(times[0] as string);
        const log = writer({ period, now: c.now });
        for (const t of times) {
          c.set(t);
          log.write(inbound());
          await log.flush();
        }
        await log.close();
        assert.deepEqual(await files(), [...names].sort());
        let total = 0;
        for (const name of names) {
          const blocks = readW3C(await read(name));
          assert.equal(blocks.length, 1, `${name} has one directive block`);
          total += blocks[0]?.rows.length ?? 0;
        }
        assert.equal(total, times.length);
      });
    }

    test('rolls by the entry time when given, and never back to an earlier file', async () => {
      const c = clock('2026-03-07T23:59:59Z');
      const log = writer({ now: c.now });
      log.write(inbound({ time: Date.parse('2026-03-08T00:00:01Z') }));
      // Arrives late, stamped before midnight: stays in the newer file, time kept.
      log.write(inbound({ time: Date.parse('2026-03-07T23:59:58Z') }));
      await log.close();
      assert.deepEqual(await files(), ['ex260308.log']);
      const rows = readW3C(await read('ex260308.log'))[0]?.rows ?? [];
      assert.deepEqual(
        rows.map((r) => `${r.date} ${r.time}`),
        ['2026-03-08 00:00:01', '2026-03-07 23:59:58'],
      );
    });

    test('size: rolls to the next extendN.log before a file would pass maxSizeMB', async () => {
      const maxSizeMB = 2048 / (1024 * 1024); // 2 KiB
      const log = writer({ period: 'size', maxSizeMB, now: clock('2026-03-07T00:00:00Z').now });
      for (let i = 0; i < 60; i++)
        log.write(inbound({ csUriQuery: `RCPT TO:<user${i}@contoso.com>` }));
      await log.close();
      const names = await files();
      assert.ok(names.length >= 3, names.join());
      assert.deepEqual(names, names.map((_, i) => `extend${i + 1}.log`).sort());
      let rows = 0;
      for (const name of names) {
        assert.ok((await stat(join(root, 'default', name))).size <= 2048, name);
        const blocks = readW3C(await read(name));
        assert.equal(blocks.length, 1);
        rows += blocks[0]?.rows.length ?? 0;
      }
      assert.equal(rows, 60);
    });

    test('size: a restart continues in the highest extendN.log', async () => {
      const dir = join(root, 'default');
      const first = writer({ period: 'size', maxSizeMB: 1, now: Date.now });
      first.write(inbound());
      await first.close();
      await writeFile(join(dir, 'extend3.log'), '');
      const second = writer({ period: 'size', maxSizeMB: 1 });
      second.write(inbound());
      await second.close();
      assert.deepEqual(await files(), ['extend1.log', 'extend3.log']);
      assert.equal(readW3C(await read('extend3.log'))[0]?.rows.length, 1);
    });

    test('names files by local time when localTimeForNaming (lines stay UTC)', async () => {
      // 2026-03-07 23:30 UTC is 2026-03-08 in any zone east of UTC+0:30; compare with Date.
      const t = Date.parse('2026-03-07T23:30:00Z');
      const d = new Date(t);
      const two = (n: number): string => String(n).padStart(2, '0');
      const local = `ex${two(d.getFullYear() % 100)}${two(d.getMonth() + 1)}${two(d.getDate())}${two(d.getHours())}.log`;
      const log = writer({ period: 'hourly', localTimeForNaming: true, now: () => t });
      log.write(inbound());
      await log.close();
      assert.deepEqual(await files(), [local]);
      assert.equal(readW3C(await read(local))[0]?.rows[0]?.time, '23:30:00');
    });
  });

  test('a restart appends the directives again to the existing file', async () => {
    const c = clock('2026-03-07T08:00:00Z');
    const first = writer({ now: c.now });
    first.write(inbound());
    await first.close();
    c.set('2026-03-07T09:00:00Z');
    const second = writer({ now: c.now });
    second.write(inbound());
    second.write(inbound());
    await second.close();
    const blocks = readW3C(await read('ex260307.log'));
    assert.deepEqual(
      blocks.map((b) => [b.date, b.rows.length]),
      [
        ['2026-03-07 08:00:00', 1],
        ['2026-03-07 09:00:00', 2],
      ],
    );
  });

  test('writes the directives again when the fields change', async () => {
    const log = writer({ now: clock('2026-03-07T00:00:00Z').now });
    log.write(inbound());
    const fewer: ProtocolLogField[] = ['time', 'c-ip', 'cs-method', 'sc-status', 'cs-version'];
    log.setFields(fewer);
    log.write(inbound());
    await log.close();
    const blocks = readW3C(await read('ex260307.log'));
    assert.equal(blocks.length, 2);
    assert.deepEqual(blocks[1]?.fields, fewer);
    assert.deepEqual(blocks[1]?.rows[0], {
      time: '00:00:00',
      'c-ip': '192.0.2.10',
      'cs-method': 'MAIL',
      'sc-status': '250',
      'cs-version': 'SMTP',
    });
  });

  test('write() returns before touching the disk; close() flushes every line', async () => {
    const log = writer({ now: clock('2026-03-07T00:00:00Z').now });
    const n = 20_000;
    for (let i = 0; i < n; i++) log.write(inbound({ csUriQuery: `line ${i}` }));
    assert.equal(existsSync(join(root, 'default')), false, 'nothing written synchronously');
    await log.close();
    const rows = readW3C(await read('ex260307.log'))[0]?.rows ?? [];
    assert.equal(rows.length, n);
    assert.equal(rows.at(-1)?.['cs-uri-query'], `line+${n - 1}`);
    assert.equal(log.stats.droppedLines, 0);
  });

  test('close() is idempotent and later writes are dropped and counted', async () => {
    const log = writer({ now: clock('2026-03-07T00:00:00Z').now });
    log.write(inbound());
    const a = log.close();
    const b = log.close();
    assert.equal(a, b);
    await a;
    await log.close();
    log.write(inbound());
    assert.equal(log.stats.droppedLines, 1);
    assert.equal(readW3C(await read('ex260307.log'))[0]?.rows.length, 1);
  });

  test('reports an unwritable directory through onError instead of throwing', async () => {
    await writeFile(join(root, 'default'), 'a file where the directory should be');
    const errors: Error[] = [];
    const log = writer({ now: Date.now, onError: (e) => errors.push(e) });
    log.write(inbound());
    log.write(inbound());
    await log.close();
    assert.equal(errors.length, 1);
    assert.equal(log.stats.droppedLines, 2);
  });

  test('size period: an unwritable directory is reported, not thrown', async () => {
    await writeFile(join(root, 'default'), 'not a directory');
    const errors: Error[] = [];
    const log = writer({ period: 'size', maxSizeMB: 1, onError: (e) => errors.push(e) });
    log.write(inbound());
    await log.close();
    assert.equal(errors.length, 1);
    assert.equal(log.stats.droppedLines, 1);
  });

  test('makes the directory again when it is removed between files', async () => {
    const c = clock('2026-03-07T23:00:00Z');
    const log = writer({ now: c.now });
    log.write(inbound());
    await log.flush();
    await rm(join(root, 'default'), { recursive: true });
    c.set('2026-03-08T00:00:00Z');
    log.write(inbound());
    await log.close();
    assert.deepEqual(await files(), ['ex260308.log']);
    assert.equal(log.stats.droppedLines, 0);
  });

  test('a value starting with # cannot pass for a directive', async () => {
    const log = writer({ fields: ['cs-uri-query', 'sc-status'], now: Date.now });
    log.write({ csUriQuery: '#Fields: forged', scStatus: 500 });
    await log.close();
    const name = (await files())[0] ?? '';
    const blocks = readW3C(await read(name));
    assert.equal(blocks.length, 1);
    assert.equal(decodeValue(blocks[0]?.rows[0]?.['cs-uri-query'] ?? ''), '#Fields: forged');
  });

  test('drops (and counts) lines beyond maxBufferedBytes rather than grow without bound', async () => {
    const log = writer({ maxBufferedBytes: 1000, now: clock('2026-03-07T00:00:00Z').now });
    for (let i = 0; i < 100; i++) log.write(inbound());
    const dropped = log.stats.droppedLines;
    assert.ok(dropped > 0 && dropped < 100, String(dropped));
    await log.close();
    assert.equal(readW3C(await read('ex260307.log'))[0]?.rows.length, 100 - dropped);
  });

  test('refuses period size without maxSizeMB', () => {
    assert.throws(() => writer({ period: 'size' }), /maxSizeMB/);
  });

  test('outbound lines carry the IIS literals', () => {
    assert.equal(OUTBOUND_COMMAND, 'OutboundConnectionCommand');
    assert.equal(OUTBOUND_RESPONSE, 'OutboundConnectionResponse');
  });
});

describe('ProtocolLogWriter.fromConfig', () => {
  test('is undefined when the log is disabled, a writer with the config otherwise', async () => {
    const config = {
      enabled: false,
      directory: root,
      period: 'hourly' as const,
      localTimeForNaming: false,
      fields: ['time', 'c-ip'] as ProtocolLogField[],
    };
    assert.equal(ProtocolLogWriter.fromConfig('default', config), undefined);
    const log = ProtocolLogWriter.fromConfig(
      'default',
      { ...config, enabled: true },
      { now: clock('2026-03-07T09:00:00Z').now },
    );
    assert.ok(log);
    log.write(inbound());
    await log.close();
    assert.deepEqual(await files(), ['ex26030709.log']);
    assert.deepEqual(readW3C(await read('ex26030709.log'))[0]?.fields, ['time', 'c-ip']);
  });
});
