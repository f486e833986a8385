import { sentinelFailoverScenario } from './support/sentinel-failover.js';

// Sentinels that answer slowly, as sentinels on other hosts do: before the fix
// the ingress's client ended for good after the first failover (ioredis's
// failover detector closed the connector while it was still asking a sentinel)
// and answered 451 until restarted.
sentinelFailoverScenario(
  'Redis Sentinel failover of the primary mid-traffic, each sentinel behind a 150 ms proxy',
  150,
);
