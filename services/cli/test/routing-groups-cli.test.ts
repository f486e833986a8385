import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '@mailbus/testing';
import { twoSitesYaml } from './two-sites-config.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.js');

function mailbus(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mailbus-rg-')), 'mailbus.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('mailbus config check: routing groups as sites', () => {
  test('the two-site organisation of DESIGN 7 is valid: exit 0, no warning', () => {
    const r = mailbus(['config', 'check', '--config', writeConfig(twoSitesYaml())]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('every routing-group mistake is one `<path>: <reason>` line, exit 1', () => {
    const yaml = twoSitesYaml({
      extraConnectors: `
  - { name: Loop, bridgeheads: [paris-gw], dns: true, connectedRoutingGroups: [{ name: Paris }] }
  - { name: Nowhere, bridgeheads: [paris-gw], dns: true, connectedRoutingGroups: [{ name: Tokyo }] }
  - { name: Split, bridgeheads: [paris-gw, boston-gw], dns: true, connectedRoutingGroups: [{ name: Boston }] }`,
    }).replace('routingGroup: Boston, mailboxHosts', 'routingGroup: Bostn, mailboxHosts');
    const r = mailbus(['config', 'check', '--config', writeConfig(yaml)]);
    assert.equal(r.status, 1);
    assert.deepEqual(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => l.replace(/: .*/, '')),
      [
        'recipientPolicies[1].routingGroup',
        'connectors[3].connectedRoutingGroups[0].name',
        'connectors[4].connectedRoutingGroups[0].name',
        'connectors[5].bridgeheads',
      ],
      r.stderr,
    );
    assert.match(r.stderr, /connectors\[3\]\.connectedRoutingGroups\[0\]\.name: .*itself/);
    assert.match(r.stderr, /"Tokyo" is not in routingGroups \(Paris, Boston\)/);
  });

  test('a routing group that cannot reach another is a warning on stderr, exit 0', () => {
    const yaml = twoSitesYaml().replace(/ {2}- name: Boston-Paris\n(?: {4}.*\n){3}/, '');
    const r = mailbus(['config', 'check', '--config', writeConfig(yaml)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK \(2 virtual servers, 2 connectors\)/);
    assert.equal(
      r.stderr.trim(),
      'warning: routingGroups[1]: routing group Boston cannot reach Paris over connectors with connectedRoutingGroups: mail from Boston for mailboxes or connectors there is rejected',
    );
  });
});

describe('mailbus route: routing groups as sites', () => {
  const config = writeConfig(twoSitesYaml());
  const route = (vs: string, ...rest: string[]) =>
    mailbus([
      'route',
      '--config',
      config,
      '--virtual-server',
      vs,
      '--from',
      'a@contoso.com',
      ...rest,
    ]);

  test('--json from Boston: Internet mail goes via Paris, exactly the DESIGN 7 shape', () => {
    const r = route(
      'boston-gw',
      '--to',
      'x@example.net',
      '--to',
      'u@paris.contoso.com',
      '--to',
      'u@boston.contoso.com',
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      JSON.stringify({
        recipients: [
          {
            recipient: 'x@example.net',
            connectors: [{ name: 'Boston-Paris', cost: 11, path: ['Boston-Paris', 'Internet'] }],
          },
          {
            recipient: 'u@paris.contoso.com',
            connectors: [{ name: 'Boston-Paris', cost: 10, path: ['Boston-Paris'] }],
          },
          { recipient: 'u@boston.contoso.com', local: { mailboxHosts: ['[10.2.0.5]'] } },
        ],
      }),
    );
  });

  test('--json from Paris: its own Internet connector, no path key (section 5 shape)', () => {
    const r = route('paris-gw', '--to', 'x@example.net', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      '{"recipients":[{"recipient":"x@example.net","connectors":[{"name":"Internet","cost":1}]}]}',
    );
  });

  test('text explains the cross-site path hop by hop with costs', () => {
    const r = route('boston-gw', '--to', 'x@example.net');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /routed in routing group Boston/);
    assert.match(r.stdout, /Boston-Paris: path cost 11\n/);
    assert.match(r.stdout, /1\. Boston-Paris: routing group Boston -> Paris, cost 10\n/);
    assert.match(
      r.stdout,
      /2\. Internet: delivers from routing group Paris, address-space cost 1\n/,
    );
  });
});

describe('mailbus track: routing groups as sites', () => {
  test("a site whose Redis cannot be reached is named, not silently skipped: Paris's events are there", async () => {
    const boston = await RedisServer.start();
    try {
      const file = writeConfig(twoSitesYaml());
      const r = mailbus(['track', 'nothing@example.net', '--config', file, '--redis', boston.url]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        /^MAILBUS_ERR_UNKNOWN_MESSAGE: no message found for "nothing@example\.net" \(tracking keeps events for \d+h\); not searched: routing group Paris \(redis:\/\/127\.0\.0\.1:1\): cannot reach Redis at redis:\/\/127\.0\.0\.1:1 within 5s\n$/,
      );
    } finally {
      await boston.close();
    }
  });
});
