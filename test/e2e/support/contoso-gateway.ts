/**
 * The config the ISP-facing tests (ETRN, TURN, NTLM) give mailbus: contoso.test's
 * gateway `gw` (relays for loopback; its protocol log in `logs` when given),
 * contoso.test's mailboxes at `mailboxPort` when given, and one connector `ISP`
 * whose smart host, address spaces, security and Advanced tab are `isp`:
 * YAML keys, one per line, as they stand under `- name: ISP`.
 */
export function contosoGatewayYaml(o: {
  redisUrl: string;
  smtp: number;
  logs?: string;
  mailboxPort?: number;
  /** More top-level YAML (e.g. an `admin:` line). */
  top?: string;
  isp: string[];
}): string {
  const lines = [`redis: { url: "${o.redisUrl}" }`];
  if (o.top) lines.push(o.top);
  if (o.mailboxPort !== undefined)
    lines.push(
      'recipientPolicies:',
      `  - { domain: contoso.test, mailboxHosts: ["[127.0.0.1]:${o.mailboxPort}"], recipientValidation: none }`,
    );
  lines.push(
    'virtualServers:',
    '  - name: gw',
    `    listen: "127.0.0.1:${o.smtp}"`,
    '    fqdn: gw.contoso.test',
    '    relay: { allow: [127.0.0.0/8] }',
  );
  if (o.logs) lines.push(`    protocolLog: { enabled: true, directory: "${o.logs}" }`);
  lines.push('connectors:', '  - name: ISP', ...o.isp.map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}
