import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, sendMail, waitFor } from '@mailbus/testing';
import { header } from './support/message-headers.js';
import { startCollector, type CollectedSpan } from './support/otlp-collector.js';
import { TwoSites } from './support/two-sites.js';

const FORGED_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/**
 * Two sites with tracing on (TwoSites): Boston sends Internet mail through Paris. The
 * trace continues from Boston's ingress to Paris's delivery (one trace id),
 * `mailbus track` finds both halves from either site, the site headers stay
 * inside the organisation, and a client outside relay.allow (127.0.0.2)
 * cannot graft its message onto a trace or forge the visited groups.
 */
describe('routing groups as sites: one trace and one track across sites', () => {
  let sites: TwoSites;
  let collector: Awaited<ReturnType<typeof startCollector>>;

  before(async () => {
    collector = await startCollector();
    sites = await TwoSites.start({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
  });

  after(async () => {
    await sites?.close();
    await new Promise<void>((r) => (collector ? collector.server.close(() => r()) : r()));
  });

  const span = (name: string, attr: string, value: string) =>
    collector.spans.find((s) => s.name === name && s.attributes[attr] === value);

  let bostonId = '';
  let parisId = '';

  test("Boston -> the Internet via Paris: one trace, Paris's receive span a child of Boston's send", async () => {
    const to = 'x@example.net';
    const from = 'ann@boston.contoso.test';
    const r = await sendMail({
      port: sites.ports.boston,
      from,
      to: [to],
      raw: makeMessage({ from, to }),
    });
    bostonId = /queued as ([0-9A-Z]+)$/.exec(r.response)?.[1] ?? '';
    const m = await waitFor(() => sites.sinks.internet.messages.find((x) => x.to.includes(to)), {
      timeoutMs: 30_000,
      what: 'the Boston message at the Internet sink',
    });
    assert.deepEqual(header(m, 'X-Mailbus-Routing-Groups'), [], 'stripped on leaving');
    assert.deepEqual(header(m, 'X-Mailbus-Trace-Context'), [], 'never stored nor sent out');
    const spans = await waitFor(
      () => {
        const receive = span('smtp.receive', 'mailbus.queue_id', bostonId);
        const sends = collector.spans.filter(
          (s) => s.name === 'smtp.send' && s.attributes['mailbus.connector'] === 'Boston-Paris',
        );
        const there = collector.spans.find(
          (s) =>
            s.name === 'smtp.receive' &&
            s.attributes['mailbus.virtual_server'] === 'paris-gw' &&
            s.traceId === receive?.traceId,
        );
        const out = collector.spans.find(
          (s) =>
            s.name === 'delivery.attempt' &&
            s.attributes['mailbus.connector'] === 'Internet' &&
            s.traceId === receive?.traceId,
        );
        return receive && there && out ? { receive, sends, there, out } : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the spans of both sites in one trace' },
    );
    assert.equal(spans.receive.parentSpanId, '', "Boston's receive span is the root");
    const send = spans.sends.find((s) => s.spanId === spans.there.parentSpanId);
    assert.ok(send, "Paris's receive span is the child of Boston's smtp.send over Boston-Paris");
    assert.equal(send.traceId, spans.receive.traceId);
    parisId = String(spans.there.attributes['mailbus.queue_id']);
    assert.match(parisId, /^[0-9A-Z]{18}$/);
    assert.notEqual(parisId, bostonId);
  });

  const track = (id: string) => {
    return (
      JSON.parse(sites.track(id, '--json')) as {
        messages: Array<{
          id: string;
          routingGroup: string;
          events: Array<{ type: string; connector?: string }>;
        }>;
      }
    ).messages;
  };

  test('mailbus track finds the whole path from either id: Boston, then Paris, each with its routing group', async () => {
    assert.ok(bostonId && parisId);
    const whole = (id: string) => {
      const ms = track(id);
      return ms.map((m) => ({
        id: m.id,
        routingGroup: m.routingGroup,
        delivered: m.events.filter((e) => e.type === 'delivered').map((e) => e.connector),
      }));
    };
    const expected = [
      { id: bostonId, routingGroup: 'Boston', delivered: ['Boston-Paris'] },
      { id: parisId, routingGroup: 'Paris', delivered: ['Internet'] },
    ];
    // The delivered events are written as each job is released, just after the 250.
    const fromBoston = await waitFor(
      () => {
        const w = whole(bostonId);
        return w.length === 2 && w[1]?.delivered.length === 1 ? w : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'both halves tracked' },
    );
    assert.deepEqual(fromBoston, expected);
    assert.deepEqual(whole(parisId), expected);
    const text = sites.track(bostonId);
    assert.match(text, new RegExp(`^message ${bostonId} \\(routing group Boston\\)$`, 'm'));
    assert.match(text, new RegExp(`^message ${parisId} \\(routing group Paris\\)$`, 'm'));
    assert.match(text, new RegExp(`received .* from routing group Boston as ${bostonId}$`, 'm'));
  });

  test('a client outside relay.allow: its trace context and visited groups are not believed, and removed', async () => {
    const to = 'bob@boston.contoso.test';
    const from = 'mallory@outside.test';
    const r = await sendMail({
      port: sites.ports.boston,
      localAddress: '127.0.0.2',
      from,
      to: [to],
      raw: makeMessage({
        from,
        to,
        headers: {
          // Believed, "Boston" would make this a routing loop (554) and the trace Mallory's.
          'X-Mailbus-Routing-Groups': 'Boston',
          'X-Mailbus-Trace-Context': `traceparent=00-${FORGED_TRACE}-00f067aa0ba902b7-01; site=Paris; queue-id=FORGED`,
        },
      }),
    });
    const id = /queued as ([0-9A-Z]+)$/.exec(r.response)?.[1] ?? '';
    const m = await sites.sinks.bostonMailbox.waitForMessages(1, 30_000).then((ms) => ms[0]);
    assert.ok(m);
    assert.deepEqual(header(m, 'X-Mailbus-Routing-Groups'), ['Boston']);
    assert.deepEqual(header(m, 'X-Mailbus-Trace-Context'), []);
    const receive: CollectedSpan = await waitFor(
      () => span('smtp.receive', 'mailbus.queue_id', id),
      { timeoutMs: 20_000, intervalMs: 100, what: "the outside client's receive span" },
    );
    assert.equal(receive.attributes['mailbus.client_ip'], '127.0.0.2');
    assert.notEqual(receive.traceId, FORGED_TRACE);
    assert.equal(receive.parentSpanId, '', 'a new trace');
    assert.ok(!collector.spans.some((s) => s.traceId === FORGED_TRACE));
    assert.deepEqual(
      track(id).map((x) => x.id),
      [id],
      'not linked to the forged queue id',
    );
  });
});
