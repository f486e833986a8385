/**
 * A gateway config (YAML) that relays everything from loopback to one sink:
 * one virtual server `mx` on 127.0.0.1:`port`, one connector `Sink` for every
 * domain that retries after 1 s and never marks its link down. `redis` is the
 * `redis:` section's entries in YAML flow style.
 */
export function relayToSinkConfig(o: {
  redis: string;
  port: number;
  sinkPort: number;
  concurrency: number;
}): string {
  return `
organization: Test
redis: { ${o.redis} }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${o.port}
    fqdn: mx.test
    relay: { allow: [127.0.0.0/8] }
    limits: { maxConnectionsPerIp: 100 }
connectors:
  - name: Sink
    smartHosts: ["[127.0.0.1]:${o.sinkPort}"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: "*" }]
    retry: { intervals: [1s] }
    linkState: { failuresToMarkDown: 1000000 }
    concurrency: ${o.concurrency}
`;
}
