import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  headerValues,
  parseTraceContext,
  removeHeaderFields,
  SITE_HEADERS,
  traceContextHeader,
} from './site-headers.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('site headers', () => {
  test('the trace-context header round-trips, values URI-encoded', () => {
    const line = traceContextHeader({
      traceparent: TP,
      tracestate: 'a=1,b=2; c',
      site: 'New York',
      queueId: 'ABC123',
    });
    assert.equal(
      line,
      `X-Mailbus-Trace-Context: traceparent=${TP}; tracestate=a%3D1%2Cb%3D2%3B%20c; site=New%20York; queue-id=ABC123\r\n`,
    );
    assert.deepEqual(parseTraceContext(line.slice(line.indexOf(':') + 1).trim()), {
      traceparent: TP,
      tracestate: 'a=1,b=2; c',
      site: 'New York',
      queueId: 'ABC123',
    });
  });

  test('unknown, repeated, empty and malformed parts are ignored', () => {
    assert.deepEqual(
      parseTraceContext(`foo=1; traceparent=${TP}; traceparent=x; site=; queue-id=%E0%A4%A; junk`),
      { traceparent: TP },
    );
    assert.deepEqual(parseTraceContext('site=a%0D%0Ab'), {}, 'no line breaks smuggled in');
  });

  test('header values: every field of the name, case-insensitive, unfolded, header section only', () => {
    const m = Buffer.from(
      'x-mailbus-trace-context: a=1;\r\n b=2\r\nSubject: s\r\nX-Mailbus-Trace-Context: c=3\r\n\r\nX-Mailbus-Trace-Context: body\r\n',
    );
    assert.deepEqual(headerValues(m, 'X-Mailbus-Trace-Context'), ['a=1; b=2', 'c=3']);
    assert.deepEqual(
      headerValues(Buffer.from('\r\nX-Mailbus-Trace-Context: b\r\n'), 'x-mailbus-trace-context'),
      [],
    );
  });

  test('removing the site headers: each field with its continuation lines, the body untouched', () => {
    const m = Buffer.from(
      'X-Mailbus-Routing-Groups: Paris,\r\n\tBoston\r\nSubject: s\r\nx-mailbus-trace-context : a=1\r\nX-Mailbus-Routing-Groups-Not: kept\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
    );
    assert.equal(
      removeHeaderFields(m, SITE_HEADERS).toString(),
      'Subject: s\r\nX-Mailbus-Routing-Groups-Not: kept\r\n\r\nX-Mailbus-Routing-Groups: body\r\n',
    );
    const none = Buffer.from('Subject: s\r\n\r\nbody');
    assert.equal(
      removeHeaderFields(none, SITE_HEADERS),
      none,
      'the same buffer when nothing to remove',
    );
  });
});
