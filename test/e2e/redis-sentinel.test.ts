import { sentinelFailoverScenario } from './support/sentinel-failover.js';

sentinelFailoverScenario('Redis Sentinel failover of the primary mid-traffic', 0);
