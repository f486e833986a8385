import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from './metrics.js';
import type { QueueSample } from './metrics.js';

describe('Metrics', () => {
  test('renders every metric with its labels after increments', async () => {
    const m = new Metrics();
    m.messagesAccepted.inc({ virtual_server: 'default' });
    m.messagesRejected.inc({ code: '550', enhanced: '5.7.1' });
    m.messagesDelivered.inc({ connector: 'Internet' }, 3);
    m.messagesDeferred.inc({ connector: 'Internet' });
    m.messagesBounced.inc({ connector: 'Internet' });
    m.failovers.inc({ from: 'Internet', to: 'Backup' });
    m.queueDepth.set({ connector: 'Internet', state: 'waiting' }, 7);
    m.queueOldestAge.set({ connector: 'Internet' }, 90);
    m.connectorUp.set({ connector: 'Internet' }, 1);
    m.smtpSessionsOpen.inc({ virtual_server: 'default' });
    m.deliveryLatency.observe({ connector: 'Internet' }, Metrics.seconds(0, 1500));
    const text = await m.render();
    for (const line of [
      'mailbus_messages_accepted_total{virtual_server="default"} 1',
      'mailbus_messages_rejected_total{code="550",enhanced="5.7.1"} 1',
      'mailbus_messages_delivered_total{connector="Internet"} 3',
      'mailbus_messages_deferred_total{connector="Internet"} 1',
      'mailbus_messages_bounced_total{connector="Internet"} 1',
      'mailbus_failovers_total{from="Internet",to="Backup"} 1',
      'mailbus_queue_depth{connector="Internet",state="waiting"} 7',
      'mailbus_queue_oldest_age_seconds{connector="Internet"} 90',
      'mailbus_connector_up{connector="Internet"} 1',
      'mailbus_smtp_sessions_open{virtual_server="default"} 1',
      'mailbus_delivery_latency_seconds_bucket{le="2.5",connector="Internet"} 1',
      'mailbus_delivery_latency_seconds_bucket{le="1",connector="Internet"} 0',
      'mailbus_delivery_latency_seconds_bucket{le="86400",connector="Internet"} 1',
      'mailbus_delivery_latency_seconds_sum{connector="Internet"} 1.5',
      'mailbus_delivery_latency_seconds_count{connector="Internet"} 1',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    assert.match(text, /^# HELP mailbus_messages_accepted_total /m);
    assert.match(text, /^# TYPE mailbus_delivery_latency_seconds histogram$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(m.contentType, /^text\/plain/);
  });

  test('reads queue gauges from the collector at scrape time, once per scrape', async () => {
    let calls = 0;
    let depth = 5;
    const m = new Metrics({
      processMetrics: false,
      queueCollector: (): QueueSample[] => {
        calls++;
        return [
          {
            connector: 'Internet',
            depth: { waiting: depth, delayed: 2 },
            oldestAgeSeconds: 30,
            up: false,
          },
          { connector: 'Backup', depth: {} },
        ];
      },
    });
    const text = await m.render();
    assert.equal(calls, 1);
    assert.match(text, /mailbus_queue_depth\{connector="Internet",state="waiting"\} 5/);
    assert.match(text, /mailbus_queue_depth\{connector="Internet",state="delayed"\} 2/);
    assert.match(text, /mailbus_queue_oldest_age_seconds\{connector="Internet"\} 30/);
    assert.match(text, /mailbus_queue_oldest_age_seconds\{connector="Backup"\} 0/);
    assert.match(text, /mailbus_connector_up\{connector="Internet"\} 0/);
    assert.doesNotMatch(text, /mailbus_connector_up\{connector="Backup"\}/);
    depth = 9;
    m.setQueueCollector(() => [{ connector: 'Internet', depth: { waiting: depth } }]);
    const again = await m.render();
    assert.match(again, /mailbus_queue_depth\{connector="Internet",state="waiting"\} 9/);
    assert.doesNotMatch(again, /state="delayed"/, 'states gone from the queue are dropped');
  });

  test('a failing collector leaves the queue gauges out and counts the error', async () => {
    const m = new Metrics({
      processMetrics: false,
      queueCollector: () => Promise.reject(new Error('redis down')),
    });
    const text = await m.render();
    assert.match(text, /^mailbus_metrics_collect_errors_total 1$/m);
    assert.doesNotMatch(text, /^mailbus_queue_depth\{/m);
  });

  test('two instances in one process keep their own registries', async () => {
    const a = new Metrics({ defaultLabels: { role: 'ingress' } });
    const b = new Metrics({ defaultLabels: { role: 'bridgehead' } });
    a.messagesAccepted.inc({ virtual_server: 'default' });
    assert.match(
      await a.render(),
      /mailbus_messages_accepted_total\{virtual_server="default",role="ingress"\} 1/,
    );
    assert.doesNotMatch(await b.render(), /mailbus_messages_accepted_total\{/);
  });
});
