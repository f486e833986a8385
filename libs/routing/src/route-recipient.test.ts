import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '@mailbus/config';
import { replies } from '@mailbus/smtp';
import { configFromYaml, withConnectors } from '../test/config-from-yaml.js';
import { routeRecipient, routeRecipients } from './route-recipient.js';
import type { MessageFacts, RouteDecision } from './route-types.js';

const facts = (f: Partial<MessageFacts> = {}): MessageFacts => ({
  sender: 'alice@contoso.com',
  priority: 'normal',
  system: false,
  ...f,
});

/** Connector names in try order, `(down)` after a down one; or the reply of a rejection. */
function summary(d: RouteDecision): string[] | string {
  if (d.kind === 'connectors')
    return d.candidates.map((c) => (c.down ? `${c.name}(down)` : c.name));
  if (d.kind === 'local') return `local ${d.mailboxHosts.join(',')}`;
  return `${d.reply.code} ${d.reply.enhanced} ${d.reply.text}`;
}

interface Case {
  name: string;
  config: Config;
  to: string;
  facts?: Partial<MessageFacts>;
  down?: string[];
  expect: string[] | string;
}

const dns = 'dns: true, bridgeheads: [default]';

const starAndNet = withConnectors(
  `{ name: Internet, ${dns}, addressSpaces: [{ domain: "*" }] }`,
  `{ name: NetOnly, ${dns}, addressSpaces: [{ domain: "*.net" }] }`,
);
const specificity = withConnectors(
  `{ name: Star, ${dns}, addressSpaces: [{ domain: "*" }] }`,
  `{ name: AnySub, ${dns}, addressSpaces: [{ domain: "*.fabrikam.com" }] }`,
  `{ name: DeepSub, ${dns}, addressSpaces: [{ domain: "*.a.fabrikam.com" }] }`,
  `{ name: Exact, ${dns}, addressSpaces: [{ domain: "fabrikam.com" }] }`,
);
const twoInternet = withConnectors(
  `{ name: Connector1, ${dns}, addressSpaces: [{ domain: "*", cost: 1 }] }`,
  `{ name: Connector2, ${dns}, addressSpaces: [{ domain: "*", cost: 2 }] }`,
);
const dialUp = withConnectors(
  `{ name: DialUp, smartHosts: [smtp.isp.example], bridgeheads: [default], addressSpaces: [{ domain: "*", cost: 50 }] }`,
  `{ name: Permanent, ${dns}, addressSpaces: [{ domain: "*", cost: 1 }] }`,
);
const ties = withConnectors(
  `{ name: B, ${dns}, addressSpaces: [{ domain: "*", cost: 3 }] }`,
  `{ name: A, ${dns}, addressSpaces: [{ domain: "*", cost: 3 }] }`,
  `{ name: C, ${dns}, addressSpaces: [{ domain: "*", cost: 2 }] }`,
);
const severalSpaces = withConnectors(
  `{ name: Multi, ${dns}, addressSpaces: [{ domain: "*", cost: 10 }, { domain: "*.net", cost: 3 }] }`,
  `{ name: NetFive, ${dns}, addressSpaces: [{ domain: "*.net", cost: 5 }] }`,
);
const groups = configFromYaml(`
routingGroups: [first, second]
virtualServers:
  - { name: vs1, fqdn: mx1.contoso.com, routingGroup: first }
  - { name: vs2, fqdn: mx2.contoso.com, listen: "0.0.0.0:2525", routingGroup: second }
connectors:
  - { name: First, dns: true, bridgeheads: [vs1], scope: routingGroup, addressSpaces: [{ domain: "*" }] }
  - { name: Second, dns: true, bridgeheads: [vs2], scope: routingGroup, addressSpaces: [{ domain: "*", cost: 2 }] }
  - { name: NetFirst, dns: true, bridgeheads: [vs1], scope: routingGroup, addressSpaces: [{ domain: "*.net" }] }
`);
const orgFallback = configFromYaml(`
routingGroups: [first, second]
virtualServers:
  - { name: vs1, fqdn: mx1.contoso.com, routingGroup: first }
  - { name: vs2, fqdn: mx2.contoso.com, listen: "0.0.0.0:2525", routingGroup: second }
connectors:
  - { name: NetFirst, dns: true, bridgeheads: [vs1], scope: routingGroup, addressSpaces: [{ domain: "*.net" }] }
`);
const restricted = withConnectors(
  `{ name: Star, ${dns}, addressSpaces: [{ domain: "*" }] }`,
  `{ name: RejectBob, ${dns}, addressSpaces: [{ domain: "reject.example" }], deliveryRestrictions: { reject: [Bob@Contoso.com] } }`,
  `{ name: RejectDomain, ${dns}, addressSpaces: [{ domain: "rejectdomain.example" }], deliveryRestrictions: { reject: ["@fabrikam.com"] } }`,
  `{ name: AcceptOnly, ${dns}, addressSpaces: [{ domain: "accept.example" }], deliveryRestrictions: { accept: [carol@contoso.com, "@tailspin.example"] } }`,
  `{ name: Small, ${dns}, addressSpaces: [{ domain: "small.example" }], contentRestrictions: { maxSizeKB: 100 } }`,
  `{ name: NoLow, ${dns}, addressSpaces: [{ domain: "nolow.example" }], contentRestrictions: { priorities: [high, normal] } }`,
  `{ name: NoSystem, ${dns}, addressSpaces: [{ domain: "nosystem.example" }], contentRestrictions: { types: [nonSystem] } }`,
  `{ name: OnlySystem, ${dns}, addressSpaces: [{ domain: "onlysystem.example" }], contentRestrictions: { types: [system] } }`,
  `{ name: NetSmall, ${dns}, addressSpaces: [{ domain: "*.net" }], contentRestrictions: { maxSizeKB: 100 } }`,
  `{ name: SharedSmall, ${dns}, addressSpaces: [{ domain: "shared.example", cost: 2 }], contentRestrictions: { maxSizeKB: 100 } }`,
  `{ name: SharedBig, ${dns}, addressSpaces: [{ domain: "shared.example", cost: 3 }] }`,
  `{ name: CheapSender, ${dns}, addressSpaces: [{ domain: "both.example", cost: 1 }], deliveryRestrictions: { reject: ["@contoso.com"] } }`,
  `{ name: DearSize, ${dns}, addressSpaces: [{ domain: "both.example", cost: 2 }], contentRestrictions: { maxSizeKB: 100 } }`,
);
const inherited = configFromYaml(`
virtualServers: [{ name: default, fqdn: mail.contoso.com, maxMessageSizeKB: 500 }]
connectors: [{ name: Inherits, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*" }] }]
`);
const noStar = withConnectors(`{ name: Net, ${dns}, addressSpaces: [{ domain: "*.net" }] }`);

const tooBig100 = `552 5.3.4 ${replies.messageTooBig(100).text}`;
const senderRefused = (c: string) => `550 5.7.1 ${replies.senderNotAllowed(c).text}`;

const cases: Case[] = [
  // step 1
  {
    name: 'mail to an inbound domain goes to its mailbox hosts, never a connector',
    config: starAndNet,
    to: 'bob@contoso.com',
    expect: 'local [10.0.0.5]:25',
  },
  {
    name: 'the inbound domain matches case-insensitively',
    config: starAndNet,
    to: 'Bob@CONTOSO.Com',
    expect: 'local [10.0.0.5]:25',
  },
  {
    name: 'a subdomain of an inbound domain is not inbound',
    config: starAndNet,
    to: 'bob@sub.contoso.com',
    expect: ['Internet'],
  },
  // step 3: the seeds' * and *.net
  {
    name: 'mail to x.net takes the *.net connector, not *',
    config: starAndNet,
    to: 'a@x.net',
    expect: ['NetOnly'],
  },
  {
    name: 'mail to a.b.x.net takes *.net (subdomains at any depth)',
    config: starAndNet,
    to: 'a@a.b.x.net',
    expect: ['NetOnly'],
  },
  {
    name: 'mail to example.com takes the * connector',
    config: starAndNet,
    to: 'a@example.com',
    expect: ['Internet'],
  },
  {
    name: '*.net does not match the domain net itself',
    config: starAndNet,
    to: 'a@net',
    expect: ['Internet'],
  },
  {
    name: 'exact fabrikam.com beats every wildcard for fabrikam.com',
    config: specificity,
    to: 'a@fabrikam.com',
    expect: ['Exact'],
  },
  {
    name: '*.a.fabrikam.com beats *.fabrikam.com for x.a.fabrikam.com',
    config: specificity,
    to: 'a@x.a.fabrikam.com',
    expect: ['DeepSub'],
  },
  {
    name: 'a.fabrikam.com itself takes *.fabrikam.com, not *.a.fabrikam.com',
    config: specificity,
    to: 'a@a.fabrikam.com',
    expect: ['AnySub'],
  },
  {
    name: 'b.fabrikam.com takes *.fabrikam.com',
    config: specificity,
    to: 'a@B.Fabrikam.com',
    expect: ['AnySub'],
  },
  { name: 'an unrelated domain takes *', config: specificity, to: 'a@other.org', expect: ['Star'] },
  {
    name: "a connector uses its closest matching address space and that space's cost",
    config: severalSpaces,
    to: 'a@x.net',
    expect: ['Multi', 'NetFive'],
  },
  {
    name: 'a less specific space of another connector is not a candidate',
    config: severalSpaces,
    to: 'a@x.org',
    expect: ['Multi'],
  },
  // step 4: the seeds' cost examples
  {
    name: 'Connector1 (cost 1) is tried before Connector2 (cost 2)',
    config: twoInternet,
    to: 'a@example.com',
    expect: ['Connector1', 'Connector2'],
  },
  {
    name: 'Connector2 is tried first while Connector1 is down, Connector1 still after it',
    config: twoInternet,
    to: 'a@example.com',
    down: ['Connector1'],
    expect: ['Connector2', 'Connector1(down)'],
  },
  {
    name: 'when every connector is down they keep cost order',
    config: twoInternet,
    to: 'a@example.com',
    down: ['Connector1', 'Connector2'],
    expect: ['Connector1(down)', 'Connector2(down)'],
  },
  {
    name: 'the permanent link (cost 1) comes before the dial-up (cost 50) whatever the file order',
    config: dialUp,
    to: 'a@example.com',
    expect: ['Permanent', 'DialUp'],
  },
  {
    name: 'the dial-up takes over when the permanent link is down',
    config: dialUp,
    to: 'a@example.com',
    down: ['Permanent'],
    expect: ['DialUp', 'Permanent(down)'],
  },
  {
    name: 'equal costs are tried in config order',
    config: ties,
    to: 'a@example.com',
    expect: ['C', 'B', 'A'],
  },
  // step 2: scope
  {
    name: "mail entering in routing group first uses only the first group's scoped connector",
    config: groups,
    to: 'a@example.com',
    facts: { virtualServer: 'vs1' },
    expect: ['First'],
  },
  {
    name: "mail entering in routing group second uses only the second group's scoped connector",
    config: groups,
    to: 'a@example.com',
    facts: { virtualServer: 'vs2' },
    expect: ['Second'],
  },
  {
    name: 'with no entry virtual server every scoped connector is usable',
    config: groups,
    to: 'a@example.com',
    expect: ['First', 'Second'],
  },
  {
    name: 'a scoped *.net connector is used by its own routing group',
    config: groups,
    to: 'a@x.net',
    facts: { virtualServer: 'vs1' },
    expect: ['NetFirst'],
  },
  {
    name: 'a scoped *.net connector is invisible to another routing group, which uses its own *',
    config: groups,
    to: 'a@x.net',
    facts: { virtualServer: 'vs2' },
    expect: ['Second'],
  },
  {
    name: 'mail from a routing group that sees no connector for the domain is 550 5.4.4',
    config: orgFallback,
    to: 'a@x.net',
    facts: { virtualServer: 'vs2' },
    expect: `550 5.4.4 ${replies.noRoute('x.net').text}`,
  },
  {
    name: 'an unknown entry virtual server sees no scoped connector',
    config: orgFallback,
    to: 'a@x.net',
    facts: { virtualServer: 'nope' },
    expect: `550 5.4.4 ${replies.noRoute('x.net').text}`,
  },
  // step 2: delivery restrictions
  {
    name: 'a rejected sender address cannot use the connector (550 5.7.1)',
    config: restricted,
    to: 'a@reject.example',
    facts: { sender: 'bob@contoso.com' },
    expect: senderRefused('RejectBob'),
  },
  {
    name: 'other senders use a connector with a reject list',
    config: restricted,
    to: 'a@reject.example',
    facts: { sender: 'carol@contoso.com' },
    expect: ['RejectBob'],
  },
  {
    name: 'a rejected @domain refuses every sender of that domain, case-insensitively',
    config: restricted,
    to: 'a@rejectdomain.example',
    facts: { sender: 'Eve@FABRIKAM.com' },
    expect: senderRefused('RejectDomain'),
  },
  {
    name: 'a rejected @domain does not refuse its subdomains',
    config: restricted,
    to: 'a@rejectdomain.example',
    facts: { sender: 'eve@sub.fabrikam.com' },
    expect: ['RejectDomain'],
  },
  {
    name: 'the null sender matches no reject entry',
    config: restricted,
    to: 'a@rejectdomain.example',
    facts: { sender: '', system: true },
    expect: ['RejectDomain'],
  },
  {
    name: 'an accept list admits a listed address',
    config: restricted,
    to: 'a@accept.example',
    facts: { sender: 'Carol@contoso.com' },
    expect: ['AcceptOnly'],
  },
  {
    name: 'an accept list admits a listed @domain',
    config: restricted,
    to: 'a@accept.example',
    facts: { sender: 'x@tailspin.example' },
    expect: ['AcceptOnly'],
  },
  {
    name: 'an accept list refuses everyone else',
    config: restricted,
    to: 'a@accept.example',
    facts: { sender: 'bob@contoso.com' },
    expect: senderRefused('AcceptOnly'),
  },
  {
    name: 'an accept list refuses the null sender',
    config: restricted,
    to: 'a@accept.example',
    facts: { sender: '', system: true },
    expect: senderRefused('AcceptOnly'),
  },
  // step 2: content restrictions
  {
    name: 'a message over the connector maxSizeKB is 552 5.3.4 with that limit',
    config: restricted,
    to: 'a@small.example',
    facts: { sizeKB: 101 },
    expect: tooBig100,
  },
  {
    name: 'a message of exactly maxSizeKB passes',
    config: restricted,
    to: 'a@small.example',
    facts: { sizeKB: 100 },
    expect: ['Small'],
  },
  {
    name: 'a message of unknown size is not dropped for size',
    config: restricted,
    to: 'a@small.example',
    expect: ['Small'],
  },
  {
    name: 'maxSizeKB is inherited from the bridgehead virtual server',
    config: inherited,
    to: 'a@example.com',
    facts: { sizeKB: 501 },
    expect: `552 5.3.4 ${replies.messageTooBig(500).text}`,
  },
  {
    name: 'a low-priority message cannot use a high/normal-only connector (550 5.7.1)',
    config: restricted,
    to: 'a@nolow.example',
    facts: { priority: 'low' },
    expect: `550 5.7.1 ${replies.contentNotAllowed('with low priority').text}`,
  },
  {
    name: 'a high-priority message uses a high/normal-only connector',
    config: restricted,
    to: 'a@nolow.example',
    facts: { priority: 'high' },
    expect: ['NoLow'],
  },
  {
    name: 'a DSN cannot use a nonSystem-only connector (550 5.7.1)',
    config: restricted,
    to: 'a@nosystem.example',
    facts: { sender: '', system: true },
    expect: `550 5.7.1 ${replies.contentNotAllowed('of type system (DSN or null sender)').text}`,
  },
  {
    name: 'any null-sender message is a system message',
    config: restricted,
    to: 'a@nosystem.example',
    facts: { sender: '', system: false },
    expect: `550 5.7.1 ${replies.contentNotAllowed('of type system (DSN or null sender)').text}`,
  },
  {
    name: 'ordinary mail cannot use a system-only connector (550 5.7.1)',
    config: restricted,
    to: 'a@onlysystem.example',
    expect: `550 5.7.1 ${replies.contentNotAllowed('of type nonSystem').text}`,
  },
  {
    name: 'a DSN uses a system-only connector',
    config: restricted,
    to: 'a@onlysystem.example',
    facts: { sender: '', system: true },
    expect: ['OnlySystem'],
  },
  // step 3 + 5: no fallback, closest reason
  {
    name: 'a dropped *.net connector is not replaced by *: its reason is the reply',
    config: restricted,
    to: 'a@x.net',
    facts: { sizeKB: 200 },
    expect: tooBig100,
  },
  {
    name: 'a dropped connector leaves the other one at the same specificity',
    config: restricted,
    to: 'a@shared.example',
    facts: { sizeKB: 200 },
    expect: ['SharedBig'],
  },
  {
    name: "when all closest connectors are dropped the cheapest one's reason is the reply",
    config: restricted,
    to: 'a@both.example',
    facts: { sizeKB: 200 },
    expect: senderRefused('CheapSender'),
  },
  {
    name: 'a connector marked down is still a candidate, never dropped',
    config: restricted,
    to: 'a@shared.example',
    down: ['SharedSmall'],
    expect: ['SharedBig', 'SharedSmall(down)'],
  },
  {
    name: 'no matching address space at all is 550 5.4.4',
    config: noStar,
    to: 'a@example.com',
    expect: `550 5.4.4 ${replies.noRoute('example.com').text}`,
  },
  {
    name: 'an address without a domain matches no address space, not even *',
    config: starAndNet,
    to: 'postmaster',
    expect: `550 5.4.4 ${replies.noRoute('').text}`,
  },
];

describe('routeRecipient', () => {
  for (const c of cases) {
    test(c.name, () => {
      const d = routeRecipient(c.config, facts(c.facts), c.to, new Set(c.down ?? []));
      assert.deepEqual(summary(d), c.expect);
      assert.equal(d.recipient, c.to);
    });
  }

  test('candidates carry the cost of the matching address space and down: true only when down', () => {
    const d = routeRecipient(twoInternet, facts(), 'a@example.com', new Set(['Connector1']));
    assert.deepEqual(d, {
      kind: 'connectors',
      recipient: 'a@example.com',
      candidates: [
        { name: 'Connector2', cost: 2 },
        { name: 'Connector1', cost: 1, down: true },
      ],
    });
  });

  test('a local decision names the domain and copies the mailbox hosts', () => {
    assert.deepEqual(routeRecipient(starAndNet, facts(), 'x@Contoso.com'), {
      kind: 'local',
      recipient: 'x@Contoso.com',
      domain: 'contoso.com',
      mailboxHosts: ['[10.0.0.5]:25'],
    });
  });

  test('rejections use the named reply values', () => {
    const d = routeRecipient(noStar, facts(), 'a@example.com');
    assert.deepEqual(d, {
      kind: 'rejected',
      recipient: 'a@example.com',
      reply: replies.noRoute('example.com'),
    });
  });

  test('routeRecipients routes every recipient in order', () => {
    const ds = routeRecipients(starAndNet, facts(), ['a@x.net', 'b@contoso.com', 'c@example.com']);
    assert.deepEqual(ds.map(summary), [['NetOnly'], 'local [10.0.0.5]:25', ['Internet']]);
  });
});
