import { parseConfig, formatConfigError, type Config } from '@mailbus/config';

/** One virtual server `default` in routing group `first`, inbound domain contoso.com. */
export const baseYaml = `
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]:25"] }
virtualServers:
  - { name: default, fqdn: mail.contoso.com, relay: { allow: [127.0.0.0/8], allowAuthenticated: true } }
`;

/** Parses a test config; fails the test with every error when it is invalid. */
export function configFromYaml(yaml: string): Config {
  const r = parseConfig(yaml);
  if (!r.ok)
    throw new Error(`test config is invalid:\n${r.errors.map(formatConfigError).join('\n')}`);
  return r.config;
}

/** The base config plus these connectors (YAML flow mappings, one per line). */
export function withConnectors(...connectors: string[]): Config {
  return configFromYaml(
    `${baseYaml}connectors:\n${connectors.map((c) => `  - ${c}`).join('\n')}\n`,
  );
}

/**
 * Sites Paris (paris-gw) and Boston (boston-gw) joined both ways at cost 10,
 * mailbox domains paris.contoso.com and boston.contoso.com, plus `connectors`.
 */
export function twoSites(...connectors: string[]): Config {
  return configFromYaml(`
routingGroups: [Paris, Boston]
recipientPolicies:
  - { domain: paris.contoso.com, routingGroup: Paris, mailboxHosts: ["[10.1.0.5]"] }
  - { domain: boston.contoso.com, routingGroup: Boston, mailboxHosts: ["[10.2.0.5]"] }
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]"] }
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.com }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.com }
connectors:
  - { name: Paris-Boston, bridgeheads: [paris-gw], smartHosts: [boston-gw.contoso.com], connectedRoutingGroups: [{ name: Boston, cost: 10 }] }
  - { name: Boston-Paris, bridgeheads: [boston-gw], smartHosts: [paris-gw.contoso.com], connectedRoutingGroups: [{ name: Paris, cost: 10 }] }
${connectors.map((c) => `  - ${c}`).join('\n')}
`);
}
