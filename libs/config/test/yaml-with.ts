/**
 * A valid base config (one virtual server `default` listening on 10.0.0.1:25
 * as mail.contoso.com, inbound domain contoso.com) with one connector whose
 * fields are given as YAML lines; extra top-level YAML may follow.
 */
export function yamlWith(connector: string, extra = ''): string {
  return `
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]:25"] }
virtualServers:
  - { name: default, fqdn: mail.contoso.com, listen: "10.0.0.1:25" }
connectors:
  - name: Internet
    bridgeheads: [default]
${connector
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
${extra}`;
}
