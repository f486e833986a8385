import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mailbus, workDir } from './mailbus-process.js';

/** DESIGN 8's example: an ISP connector issuing ETRN, and a branch collecting its held mail. */
function advancedYaml(
  isp: string,
  branch = 'remoteTriggered: true, triggerAccounts: [branch]',
): string {
  return `
recipientPolicies:
  - { domain: contoso.com, mailboxHosts: ["[10.0.0.5]:25"] }
virtualServers:
  - { name: default, fqdn: mail.contoso.com, listen: "10.0.0.1:25", auth: { usersFile: users.passwd } }
connectors:
  - name: ISP
    smartHosts: [relay.isp.example]
    bridgeheads: [default]
    addressSpaces: [{ domain: "*" }]
${isp
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
  - name: Branch
    smartHosts: ["[192.0.2.9]"]
    bridgeheads: [default]
    addressSpaces: [{ type: SMTP, domain: branch.contoso.com, cost: 1 }]
    delivery: { ${branch} }
`;
}

/** `mailbus config check` in a directory holding the config and its users file (users.passwd). */
function check(yaml: string, users = 'branch', ...extra: string[]) {
  const w = workDir(yaml);
  const line = (u: string) => `${u}:$scrypt$N=16384,r=8,p=1$c2FsdA==$a2V5\n`;
  writeFileSync(join(w.dir, 'users.passwd'), users.split(',').map(line).join(''));
  return mailbus(['config', 'check', ...extra, '--config', w.config], { cwd: w.dir });
}

describe('mailbus config check: the Advanced tab (DESIGN 8)', () => {
  test('the DESIGN 8 example is valid and --print shows advanced and triggerAccounts', () => {
    const yaml = advancedYaml(`
outboundSecurity: { tls: required, auth: basic, username: contoso, passwordEnv: ISP_PASSWORD }
advanced:
  request: etrn
  domains: [contoso.com]
  server: mx2.isp.example
  schedule: "every 2h"`);
    const r = check(yaml);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const p = check(yaml, 'branch', '--print');
    assert.equal(p.status, 0, p.stderr);
    const printed = JSON.parse(p.stdout) as {
      connectors: Array<{ advanced: unknown; delivery: { triggerAccounts: string[] } }>;
    };
    assert.deepEqual(printed.connectors[0]?.advanced, {
      request: 'etrn',
      domains: ['contoso.com'],
      server: 'mx2.isp.example',
      schedule: 'every 2h',
    });
    assert.deepEqual(printed.connectors[1]?.delivery.triggerAccounts, ['branch']);
  });

  test('HELO mode with ETRN, TURN without authentication, and a bad server: one line each, exit 1', () => {
    const yaml = advancedYaml(
      `
heloInsteadOfEhlo: true
advanced: { request: turn, domains: [contoso.com], server: "192.0.2.7", schedule: "every 25h" }`,
      'triggerAccounts: [branch]',
    );
    const r = check(yaml);
    assert.equal(r.status, 1, r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.replace(/: .*/, '')),
      [
        'connectors[0].advanced.request',
        'connectors[0].advanced.request',
        'connectors[0].advanced.server',
        'connectors[0].advanced.schedule',
        'connectors[1].delivery.triggerAccounts',
      ],
      r.stderr,
    );
    assert.match(
      lines[0] ?? '',
      /If you use HELO commands, you cannot use TURN commands or ETRN commands/,
    );
    assert.match(lines[1] ?? '', /if you use the TURN command, you must use authentication/);
    assert.match(lines[2] ?? '', /brackets: "\[192\.0\.2\.7\]"/);
    assert.match(lines[4] ?? '', /remoteTriggered: true/);
  });

  test('a trigger account that is no user of the users file: exit 1 naming the account and the file', () => {
    const r = check(advancedYaml('advanced: { request: none }'), 'alice');
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr.trim(),
      /^connectors\[1\]\.delivery\.triggerAccounts\[0\]: "branch" is not a user of any virtual server's auth\.usersFile \(users\.passwd\)/,
    );
  });

  test('auth: ntlm is accepted with a username and a password source, refused without', () => {
    const ok = check(
      advancedYaml(
        "outboundSecurity: { auth: ntlm, username: 'CONTOSO\\\\gw', passwordEnv: ISP_PASSWORD }\nadvanced: { request: turn }",
      ),
    );
    assert.equal(ok.status, 0, ok.stderr);
    const bad = check(advancedYaml('outboundSecurity: { auth: ntlm }'));
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /^connectors\[0\]\.outboundSecurity\.username: auth: ntlm needs a username \[MAILBUS_ERR_CONFIG_RULE\]$/m,
    );
  });
});
