import { SentinelTopology } from '@mailbus/testing';
import { failoverScenario } from './support/failover-scenario.js';

// Sentinels that answer slowly, as sentinels on other hosts do (the client
// still learns their direct addresses from them, so it has near and far
// paths): before the fix the ingress's client ended for good after the first
// failover (ioredis's failover detector closed the connector while it was
// still asking a sentinel) and answered 451 until restarted.
failoverScenario(
  'Redis Sentinel failover of the primary mid-traffic, each sentinel behind a 150 ms proxy',
  () => SentinelTopology.start({ sentinelDelayMs: 150 }),
);
