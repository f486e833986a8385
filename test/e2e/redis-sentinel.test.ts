import { SentinelTopology } from '@mailbus/testing';
import { failoverScenario } from './support/failover-scenario.js';

failoverScenario('Redis Sentinel failover of the primary mid-traffic', () =>
  SentinelTopology.start(),
);
