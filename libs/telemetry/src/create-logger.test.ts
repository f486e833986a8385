import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { getTracer } from './get-tracer.js';
import { createLogger } from './create-logger.js';
import type { LoggerOptions } from './create-logger.js';
import { withSpan } from './with-span.js';
import { startInMemoryTracing } from './sdk.js';

type Line = Record<string, unknown>;

function capture(options: Partial<LoggerOptions> = {}) {
  const lines: Line[] = [];
  const logger = createLogger({
    level: 'info',
    name: 'test',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Line) },
    ...options,
  });
  return { logger, lines };
}

const messages = (lines: Line[]): unknown[] => lines.map((l) => l['msg']);

describe('createLogger', () => {
  before(() => {
    startInMemoryTracing();
  });

  test('a category child takes its category level, up or down from the root level', () => {
    const { logger, lines } = capture({
      level: 'info',
      categories: { smtp: 'debug', queue: 'error' },
    });
    logger.debug('root debug');
    logger.info('root info');
    const smtp = logger.child({ category: 'smtp' });
    smtp.debug('smtp debug');
    smtp.trace('smtp trace');
    const queue = logger.child({ category: 'queue' });
    queue.warn('queue warn');
    queue.error('queue error');
    logger.child({ category: 'routing' }).debug('routing debug');
    logger.child({ category: 'routing' }).info('routing info');
    assert.deepEqual(messages(lines), ['root info', 'smtp debug', 'queue error', 'routing info']);
    assert.equal(lines[1]?.['category'], 'smtp');
  });

  test('children of a category child keep its level and add message_id and connector', () => {
    const { logger, lines } = capture({ level: 'warn', categories: { delivery: 'debug' } });
    const delivery = logger.child({ category: 'delivery' });
    const job = delivery.child({ message_id: '<m1@contoso.com>', connector: 'Internet' });
    job.debug('attempt');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.['message_id'], '<m1@contoso.com>');
    assert.equal(lines[0]?.['connector'], 'Internet');
    assert.equal(lines[0]?.['category'], 'delivery');
    assert.equal(lines[0]?.['level'], 'debug');
  });

  test('an explicit level on a child of the same category is kept', () => {
    const { logger, lines } = capture({ level: 'info', categories: { smtp: 'info' } });
    const smtp = logger.child({ category: 'smtp' });
    smtp.child({ session: 1 }, { level: 'trace' }).trace('session trace');
    assert.deepEqual(messages(lines), ['session trace']);
  });

  test('writes JSON with name, level label and an ISO time', () => {
    const { logger, lines } = capture();
    logger.info('hello');
    assert.equal(lines[0]?.['name'], 'test');
    assert.equal(lines[0]?.['level'], 'info');
    assert.match(String(lines[0]?.['time']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  test('adds trace_id and span_id of the active span, none outside a span', async () => {
    const { logger, lines } = capture();
    logger.info('outside');
    const ids = await withSpan('smtp.receive', {}, async (span) => {
      await new Promise((r) => setImmediate(r));
      logger.child({ category: 'smtp' }).info('inside');
      return span.spanContext();
    });
    assert.equal(lines[0]?.['trace_id'], undefined);
    assert.equal(lines[1]?.['trace_id'], ids.traceId);
    assert.equal(lines[1]?.['span_id'], ids.spanId);
    assert.match(String(lines[1]?.['trace_id']), /^[0-9a-f]{32}$/);
  });

  test('a span started by hand and made active also shows', () => {
    const { logger, lines } = capture();
    const tracer = getTracer();
    tracer.startActiveSpan('x', (span) => {
      logger.info('in x');
      span.end();
    });
    assert.equal(typeof lines[0]?.['trace_id'], 'string');
  });

  test('redacts passwords and AUTH payloads at any of the first three levels', () => {
    const { logger, lines } = capture({ redact: ['session.user'] });
    logger.info(
      {
        password: 'p1',
        auth: { method: 'PLAIN', credentials: 'AGFsaWNl', password: 'p2' },
        session: { user: 'alice', auth: { authPayload: 'c2VjcmV0' } },
        authorization: 'Bearer t',
      },
      'auth',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p1', 'p2', 'AGFsaWNl', 'c2VjcmV0', 'Bearer t', 'alice']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.match(text, /"method":"PLAIN"/);
  });
});
