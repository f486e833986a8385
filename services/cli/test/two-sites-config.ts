/**
 * The two-site organisation of DESIGN section 7 as YAML: Paris (its own Redis)
 * and Boston (the top-level one), joined by Paris-Boston and Boston-Paris
 * (cost 10 each), an Internet connector in Paris, and the mailbox domains of
 * each site. `extraConnectors` are YAML list items appended to `connectors`.
 */
export function twoSitesYaml(
  opts: { parisPort?: number; bostonPort?: number; extraConnectors?: string } = {},
): string {
  const paris = opts.parisPort ?? 2601;
  const boston = opts.bostonPort ?? 2602;
  return `
organization: Contoso
routingGroups:
  - { name: Paris, redis: { url: "redis://127.0.0.1:1" } }
  - { name: Boston }
recipientPolicies:
  - { domain: paris.contoso.com, routingGroup: Paris, mailboxHosts: ["[10.1.0.5]"] }
  - { domain: boston.contoso.com, routingGroup: Boston, mailboxHosts: ["[10.2.0.5]"] }
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.com, listen: "127.0.0.1:${paris}" }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.com, listen: "127.0.0.1:${boston}" }
connectors:
  - name: Paris-Boston
    bridgeheads: [paris-gw]
    smartHosts: ["[127.0.0.1]:${boston}"]
    connectedRoutingGroups: [{ name: Boston, cost: 10 }]
  - name: Boston-Paris
    bridgeheads: [boston-gw]
    smartHosts: ["[127.0.0.1]:${paris}"]
    connectedRoutingGroups: [{ name: Paris, cost: 10 }]
  - name: Internet
    bridgeheads: [paris-gw]
    dns: true
    addressSpaces: [{ type: SMTP, domain: "*", cost: 1 }]
${opts.extraConnectors ?? ''}`;
}
