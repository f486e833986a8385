import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '@mailbus/config';
import { configFromYaml, twoSites } from '../test/config-from-yaml.js';
import { routeRecipient } from './route-recipient.js';
import { routeToJson } from './route-to-json.js';
import type { MessageFacts, RouteDecision } from './route-types.js';

/** Three sites A, B, C: A-B and B-C cost `cheap`, A-C direct cost `direct`; Net (`*`) in C. */
function triangle(cheap: number, direct: number, extra = ''): Config {
  const link = (name: string, from: string, to: string, cost: number) =>
    `  - { name: ${name}, bridgeheads: [${from.toLowerCase()}], smartHosts: [${to.toLowerCase()}.contoso.com], connectedRoutingGroups: [{ name: ${to}, cost: ${cost} }] }`;
  return configFromYaml(`
routingGroups: [A, B, C]
virtualServers:
  - { name: a, routingGroup: A, fqdn: a.contoso.com }
  - { name: b, routingGroup: B, fqdn: b.contoso.com }
  - { name: c, routingGroup: C, fqdn: c.contoso.com }
connectors:
${link('A-B', 'A', 'B', cheap)}
${link('B-A', 'B', 'A', cheap)}
${link('B-C', 'B', 'C', cheap)}
${link('C-B', 'C', 'B', cheap)}
${link('A-C', 'A', 'C', direct)}
${link('C-A', 'C', 'A', direct)}
${extra}
  - { name: Net, bridgeheads: [c], dns: true, addressSpaces: [{ domain: "*" }] }
`);
}

const internet =
  '{ name: Internet, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*", cost: 1 }] }';

/** Each candidate as name/cost[/path][ down]; or the rejection; or `local`. */
function summary(d: RouteDecision): string[] | string {
  if (d.kind === 'local') return 'local';
  if (d.kind === 'rejected') return `${d.reply.code} ${d.reply.enhanced} ${d.reply.text}`;
  return d.candidates.map(
    (c) => `${c.name}/${c.cost}${c.path ? `/${c.path.join('>')}` : ''}${c.down ? ' down' : ''}`,
  );
}

interface Case {
  name: string;
  config: Config;
  vs: string;
  to: string;
  visited?: string[];
  down?: string[];
  facts?: Partial<MessageFacts>;
  expect: string[] | string;
}

const cases: Case[] = [
  // DESIGN 7
  {
    name: "Boston sends Internet mail over Boston-Paris to Paris's Internet connector: cost 10 + 1",
    config: twoSites(internet),
    vs: 'boston-gw',
    to: 'x@example.net',
    expect: ['Boston-Paris/11/Boston-Paris>Internet'],
  },
  {
    name: 'Paris uses its own Internet connector directly, no path',
    config: twoSites(internet),
    vs: 'paris-gw',
    to: 'x@example.net',
    expect: ['Internet/1'],
  },
  {
    name: 'a mailbox of another routing group travels the path to it, not local',
    config: twoSites(internet),
    vs: 'paris-gw',
    to: 'u@boston.contoso.com',
    expect: ['Paris-Boston/10/Paris-Boston'],
  },
  {
    name: 'a mailbox of this routing group is local',
    config: twoSites(internet),
    vs: 'boston-gw',
    to: 'u@boston.contoso.com',
    expect: 'local',
  },
  {
    name: 'a mailbox domain of no routing group is local in every group',
    config: twoSites(internet),
    vs: 'boston-gw',
    to: 'u@contoso.com',
    expect: 'local',
  },
  {
    name: 'each group routes again on arrival: Paris, reached from Boston, delivers Internet mail itself',
    config: twoSites(internet),
    vs: 'paris-gw',
    visited: ['Boston'],
    to: 'x@example.net',
    expect: ['Internet/1'],
  },
  // Exchange's `*` cost 1 and `*.net` cost 2, across two groups
  {
    name: "Exchange example across groups: from Boston, .net mail takes Boston's *.net (cost 2), never Paris's * as a fallback",
    config: twoSites(
      '{ name: Star, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*", cost: 1 }] }',
      '{ name: NetB, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*.net", cost: 2 }] }',
    ),
    vs: 'boston-gw',
    to: 'x@example.net',
    expect: ['NetB/2'],
  },
  {
    name: "Exchange example across groups: from Boston, other mail goes to Paris's * (10 + 1)",
    config: twoSites(
      '{ name: Star, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*", cost: 1 }] }',
      '{ name: NetB, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*.net", cost: 2 }] }',
    ),
    vs: 'boston-gw',
    to: 'x@example.org',
    expect: ['Boston-Paris/11/Boston-Paris>Star'],
  },
  {
    name: "Exchange example across groups: from Paris, .net mail crosses to Boston's *.net (10 + 2) rather than use its own *",
    config: twoSites(
      '{ name: Star, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*", cost: 1 }] }',
      '{ name: NetB, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*.net", cost: 2 }] }',
    ),
    vs: 'paris-gw',
    to: 'x@example.net',
    expect: ['Paris-Boston/12/Paris-Boston>NetB'],
  },
  {
    name: 'a local connector and a remote one for the same address space: cheaper total first',
    config: twoSites(
      internet,
      '{ name: BostonISP, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*", cost: 20 }] }',
    ),
    vs: 'boston-gw',
    to: 'x@example.net',
    expect: ['Boston-Paris/11/Boston-Paris>Internet', 'BostonISP/20'],
  },
  // link state
  {
    name: "Paris's Internet connector down: Boston uses its next option",
    config: twoSites(
      internet,
      '{ name: BostonISP, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*", cost: 20 }] }',
    ),
    vs: 'boston-gw',
    to: 'x@example.net',
    down: ['Internet'],
    expect: ['BostonISP/20', 'Boston-Paris/11/Boston-Paris>Internet down'],
  },
  {
    name: "Paris's Internet connector down and no other option: the mail waits in Boston (a down path is still the plan)",
    config: twoSites(internet),
    vs: 'boston-gw',
    to: 'x@example.net',
    down: ['Internet'],
    expect: ['Boston-Paris/11/Boston-Paris>Internet down'],
  },
  // triangle
  {
    name: 'triangle: the cheaper two-hop path (1 + 1 + 1) comes before the costly direct one (5 + 1)',
    config: triangle(1, 5),
    vs: 'a',
    to: 'x@example.net',
    expect: ['A-B/3/A-B>B-C>Net', 'A-C/6/A-C>Net'],
  },
  {
    name: 'triangle: with B-C down, the direct link comes first',
    config: triangle(1, 5),
    vs: 'a',
    to: 'x@example.net',
    down: ['B-C'],
    expect: ['A-C/6/A-C>Net', 'A-B/3/A-B>B-C>Net down'],
  },
  {
    name: 'triangle: a tie in cost goes to fewer hops (2 + 2 vs 4)',
    config: triangle(2, 4),
    vs: 'a',
    to: 'x@example.net',
    expect: ['A-C/5/A-C>Net', 'A-B/5/A-B>B-C>Net'],
  },
  {
    name: 'triangle: a tie in cost and hops goes to config order',
    config: triangle(
      1,
      5,
      '  - { name: A-C2, bridgeheads: [a], smartHosts: [c2.contoso.com], connectedRoutingGroups: [{ name: C, cost: 5 }] }',
    ),
    vs: 'a',
    to: 'x@example.net',
    down: ['B-C'],
    expect: ['A-C/6/A-C>Net', 'A-C2/6/A-C2>Net', 'A-B/3/A-B>B-C>Net down'],
  },
  {
    name: 'triangle: B, reached from A, never sends the mail back through A',
    config: triangle(1, 5),
    vs: 'b',
    visited: ['A'],
    to: 'x@example.net',
    down: ['B-C'],
    expect: ['B-C/2/B-C>Net down'],
  },
  // no ping-pong
  {
    name: 'no ping-pong: Boston, reached from Paris, holds the mail for its own down connector rather than send it back',
    config: twoSites(
      '{ name: PNet, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*.net" }] }',
      '{ name: BNet, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*.net" }] }',
    ),
    vs: 'boston-gw',
    visited: ['Paris'],
    to: 'x@example.net',
    down: ['BNet'],
    expect: ['BNet/1 down'],
  },
  {
    name: 'without a visited group the same Boston would send it to Paris (what the guard prevents)',
    config: twoSites(
      '{ name: PNet, bridgeheads: [paris-gw], dns: true, addressSpaces: [{ domain: "*.net" }] }',
      '{ name: BNet, bridgeheads: [boston-gw], dns: true, addressSpaces: [{ domain: "*.net" }] }',
    ),
    vs: 'boston-gw',
    to: 'x@example.net',
    down: ['BNet'],
    expect: ['Boston-Paris/11/Boston-Paris>PNet', 'BNet/1 down'],
  },
  {
    name: 'mail that has been in Paris and is for a Paris mailbox is a routing loop',
    config: twoSites(internet),
    vs: 'boston-gw',
    visited: ['Paris'],
    to: 'u@paris.contoso.com',
    expect: '554 5.4.6 Routing loop: the message has already been in routing group Paris',
  },
  {
    name: 'mail whose only connector is in a group it has been in is a routing loop',
    config: twoSites(internet),
    vs: 'boston-gw',
    visited: ['Paris'],
    to: 'x@example.net',
    expect: '554 5.4.6 Routing loop: the message has already been in routing group Paris',
  },
  // scope
  {
    name: 'a routing-group-scoped connector is invisible from another group',
    config: twoSites(
      '{ name: ParisOnly, bridgeheads: [paris-gw], dns: true, scope: routingGroup, addressSpaces: [{ domain: "*.fr" }] }',
    ),
    vs: 'boston-gw',
    to: 'x@example.fr',
    expect: '550 5.4.4 Unable to route: no connector for example.fr',
  },
  {
    name: 'a routing-group-scoped connector refuses mail that entered in another group, even in its own group',
    config: twoSites(
      '{ name: ParisOnly, bridgeheads: [paris-gw], dns: true, scope: routingGroup, addressSpaces: [{ domain: "*.fr" }] }',
    ),
    vs: 'paris-gw',
    visited: ['Boston'],
    to: 'x@example.fr',
    expect: '550 5.4.4 Unable to route: no connector for example.fr',
  },
  {
    name: 'a routing-group-scoped connector serves mail that entered in its group; down, the mail waits in the group',
    config: twoSites(
      '{ name: ParisOnly, bridgeheads: [paris-gw], dns: true, scope: routingGroup, addressSpaces: [{ domain: "*.fr" }] }',
    ),
    vs: 'paris-gw',
    to: 'x@example.fr',
    down: ['ParisOnly'],
    expect: ['ParisOnly/1 down'],
  },
  // unreachable
  {
    name: 'a group no path reaches: 550 5.4.4 naming it',
    config: configFromYaml(`
routingGroups: [Paris, Boston]
virtualServers:
  - { name: paris-gw, routingGroup: Paris, fqdn: paris-gw.contoso.com }
  - { name: boston-gw, routingGroup: Boston, fqdn: boston-gw.contoso.com }
connectors:
  - { name: Paris-Boston, bridgeheads: [paris-gw], smartHosts: [boston-gw.contoso.com], connectedRoutingGroups: [{ name: Boston }] }
  - ${internet}
`),
    vs: 'boston-gw',
    to: 'x@example.net',
    expect: '550 5.4.4 Unable to route: no connector path to routing group Paris',
  },
];

describe('routing across routing groups (sites)', () => {
  for (const c of cases) {
    test(c.name, () => {
      const facts: MessageFacts = {
        sender: 'a@contoso.com',
        priority: 'normal',
        system: false,
        virtualServer: c.vs,
        ...(c.visited ? { visitedGroups: c.visited } : {}),
        ...c.facts,
      };
      assert.deepEqual(summary(routeRecipient(c.config, facts, c.to, new Set(c.down))), c.expect);
    });
  }

  test('route --json shape of DESIGN 7: cost is the path total, path only when the route leaves the group', () => {
    const config = twoSites(internet);
    const facts = (vs: string): MessageFacts => ({
      sender: 'a@contoso.com',
      priority: 'normal',
      system: false,
      virtualServer: vs,
    });
    assert.equal(
      JSON.stringify(routeToJson([routeRecipient(config, facts('boston-gw'), 'x@example.net')])),
      '{"recipients":[{"recipient":"x@example.net","connectors":[{"name":"Boston-Paris","cost":11,"path":["Boston-Paris","Internet"]}]}]}',
    );
    assert.equal(
      JSON.stringify(routeToJson([routeRecipient(config, facts('paris-gw'), 'x@example.net')])),
      '{"recipients":[{"recipient":"x@example.net","connectors":[{"name":"Internet","cost":1}]}]}',
    );
  });
});
