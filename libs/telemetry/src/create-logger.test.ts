import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { getTracer } from './get-tracer.js';
import { createLogger, REDACT_PATHS, scrubSecrets } from './create-logger.js';
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

  test('an operator’s extra redact paths are censored too, beside the built-in secrets', () => {
    const { logger, lines } = capture({ redact: ['client.address', 'headers.subject'] });
    logger.info(
      {
        client: { address: '203.0.113.7', port: 25 },
        headers: { subject: 'Quarterly results', from: 'a@contoso.com' },
        auth: { password: 'p3' },
      },
      'received',
    );
    const line = lines[0] ?? {};
    assert.deepEqual(line['client'], { address: '[redacted]', port: 25 });
    assert.deepEqual(line['headers'], { subject: '[redacted]', from: 'a@contoso.com' });
    assert.deepEqual(line['auth'], { password: '[redacted]' });
  });

  test('secrets bound on a child logger are censored on every line it writes', () => {
    const { logger, lines } = capture();
    const child = logger.child({ session: { user: 'alice', auth: { credentials: 'AGFsaWNl' } } });
    child.info('one');
    child.info('two');
    for (const l of lines) {
      assert.deepEqual(l['session'], { user: 'alice', auth: { credentials: '[redacted]' } });
    }
    assert.equal(lines.length, 2);
  });

  test('an error with a password property is logged with the password censored, type and message kept', () => {
    const { logger, lines } = capture();
    class SmtpAuthError extends Error {}
    const err = Object.assign(new SmtpAuthError('535 5.7.8 Authentication failed'), {
      password: 'hunter2',
      code: 'EAUTH',
    });
    logger.error({ err }, 'login failed');
    logger.error(err);
    assert.equal(lines.length, 2);
    for (const l of lines) {
      const e = l['err'] as Record<string, unknown>;
      assert.equal(e['password'], '[redacted]');
      assert.equal(e['code'], 'EAUTH');
      assert.equal(e['message'], '535 5.7.8 Authentication failed');
      assert.equal(e['type'], 'SmtpAuthError');
      assert.match(String(e['stack']), /Authentication failed/);
      assert.ok(!JSON.stringify(l).includes('hunter2'));
    }
    assert.equal(err.password, 'hunter2', 'the caller’s error is left as it was');
  });
});

describe('scrubSecrets', () => {
  test('returns the very same object, not a copy, when nothing in it is secret', () => {
    const entry = {
      msg: 'delivered',
      connector: 'Internet',
      recipients: ['b@fabrikam.com', 'c@fabrikam.com'],
      session: { id: 's1', client: { address: '203.0.113.7', tls: { cipher: 'TLS_AES_128' } } },
    };
    assert.equal(scrubSecrets(entry), entry);
    assert.equal(scrubSecrets(entry.recipients), entry.recipients);
  });

  test('leaves values that are not objects as they are', () => {
    for (const v of ['password', 42, null, undefined, true]) assert.equal(scrubSecrets(v), v);
  });

  const cases: Array<{ name: string; input: Record<string, unknown>; expected: unknown }> = [
    {
      name: 'a secret key at the top level',
      input: { password: 'p1', user: 'alice' },
      expected: { password: '[redacted]', user: 'alice' },
    },
    {
      name: 'a secret one level down (auth.password)',
      input: { auth: { user: 'alice', password: 'p2' }, size: 10 },
      expected: { auth: { user: 'alice', password: '[redacted]' }, size: 10 },
    },
    {
      name: 'a secret two levels down (session.auth.credentials)',
      input: { session: { id: 's1', auth: { method: 'PLAIN', credentials: 'AGFsaWNl' } } },
      expected: { session: { id: 's1', auth: { method: 'PLAIN', credentials: '[redacted]' } } },
    },
    {
      name: 'every secret key name, whatever its value',
      input: Object.fromEntries(
        [...new Set(REDACT_PATHS.filter((p) => !p.includes('*')))].map((k) => [k, { nested: k }]),
      ),
      expected: Object.fromEntries(
        [...new Set(REDACT_PATHS.filter((p) => !p.includes('*')))].map((k) => [k, '[redacted]']),
      ),
    },
    {
      name: 'secrets inside an array of objects, the array kept an array',
      input: { attempts: [{ host: 'mx1', password: 'p4' }, { host: 'mx2' }] },
      expected: { attempts: [{ host: 'mx1', password: '[redacted]' }, { host: 'mx2' }] },
    },
  ];
  for (const c of cases) {
    test(`censors ${c.name} in a copy, leaving the caller’s object untouched`, () => {
      const before = structuredClone(c.input);
      const out = scrubSecrets(c.input);
      assert.deepEqual(out, c.expected);
      assert.notEqual(out, c.input);
      assert.deepEqual(c.input, before, 'the caller’s object was changed');
    });
  }

  test('copies only the branch with the secret; untouched siblings are shared', () => {
    const input = { auth: { password: 'p' }, client: { address: '203.0.113.7' } };
    const out = scrubSecrets(input);
    assert.equal(out.client, input.client);
    assert.notEqual(out.auth, input.auth);
  });

  test('an array at the top level is scrubbed to an array', () => {
    const input = [{ password: 'a' }, { ok: 1 }];
    const out = scrubSecrets(input);
    assert.ok(Array.isArray(out));
    assert.deepEqual(out, [{ password: '[redacted]' }, { ok: 1 }]);
    assert.equal(out[1], input[1]);
    assert.equal(input[0]?.password, 'a');
  });

  test('an Error with its own password property comes back censored, message kept, original untouched', () => {
    const err = Object.assign(new Error('535 5.7.8 Authentication failed'), {
      password: 'hunter2',
    });
    const out = scrubSecrets(err);
    assert.notEqual(out, err);
    assert.equal(out.password, '[redacted]');
    assert.equal(out.message, '535 5.7.8 Authentication failed');
    assert.match(String(out.stack), /Authentication failed/);
    assert.equal(err.password, 'hunter2');
    const plain = new Error('no secret here');
    assert.equal(scrubSecrets(plain), plain);
  });
});
