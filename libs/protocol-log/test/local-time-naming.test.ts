import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolLogWriter } from '../src/index.js';
import type { ProtocolLogWriterOptions } from '../src/index.js';
import { readW3C } from './strict-w3c-reader.js';

// Node applies a new TZ as soon as it is assigned; this file runs in its own process.
const savedTz = process.env['TZ'];
let root: string;
before(async () => {
  process.env['TZ'] = 'Pacific/Auckland'; // UTC+13 in March (NZDT)
  root = await mkdtemp(join(tmpdir(), 'mailbus-plog-tz-'));
});
after(async () => {
  process.env['TZ'] = savedTz;
  await rm(root, { recursive: true, force: true });
});

async function namesFor(
  period: ProtocolLogWriterOptions['period'],
  localTimeForNaming: boolean,
  iso: string,
): Promise<{ names: string[]; time: string | undefined }> {
  const dir = await mkdtemp(join(root, 'case-'));
  const log = new ProtocolLogWriter({
    directory: dir,
    virtualServer: 'vs',
    computerName: 'MAIL1',
    period,
    localTimeForNaming,
    fields: ['date', 'time', 'c-ip'],
    now: () => Date.parse(iso),
  });
  log.write({ cIp: '192.0.2.1' });
  await log.close();
  const names = await readdir(join(dir, 'vs'));
  const row = readW3C(await readFile(join(dir, 'vs', names[0] ?? ''), 'utf8'))[0]?.rows[0];
  return { names, time: row ? `${row.date} ${row.time}` : undefined };
}

describe('localTimeForNaming (TZ=Pacific/Auckland, UTC+13)', () => {
  test('names an hourly file by local hour, lines keep UTC', async () => {
    const r = await namesFor('hourly', true, '2026-03-07T23:30:00Z');
    assert.deepEqual(r, { names: ['ex26030812.log'], time: '2026-03-07 23:30:00' });
  });

  test('names a daily file by UTC without it', async () => {
    const r = await namesFor('daily', false, '2026-03-07T23:30:00Z');
    assert.deepEqual(r.names, ['ex260307.log']);
  });

  test('counts local weeks: Saturday 31 Oct 2026 12:00 UTC is Sunday 1 Nov local', async () => {
    assert.deepEqual((await namesFor('weekly', true, '2026-10-31T12:00:00Z')).names, [
      'ex261101.log',
    ]);
    assert.deepEqual((await namesFor('weekly', false, '2026-10-31T12:00:00Z')).names, [
      'ex261005.log',
    ]);
  });

  test('names a monthly file by the local month', async () => {
    assert.deepEqual((await namesFor('monthly', true, '2026-12-31T12:00:00Z')).names, [
      'ex2701.log',
    ]);
  });
});
