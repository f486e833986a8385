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
