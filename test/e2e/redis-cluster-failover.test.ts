import { ClusterTopology } from '@mailbus/testing';
import { failoverScenario } from './support/failover-scenario.js';

// Three masters with two replicas each: the master holding the Sink queue is
// SIGKILLed and one of its replicas promoted; the other replica follows the new
// master, so WAIT 1 (durability replicated) succeeds again.
failoverScenario('Redis Cluster failover of a master mid-traffic', () =>
  ClusterTopology.start('mailbus:{Sink}:wait'),
);
