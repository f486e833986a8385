import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { addressSpaceSpecificity } from './address-space-specificity.js';

const cases: Array<{ name: string; space: string; domain: string; matches: boolean }> = [
  { name: '* matches any domain', space: '*', domain: 'example.com', matches: true },
  {
    name: 'an exact space matches that domain',
    space: 'contoso.com',
    domain: 'contoso.com',
    matches: true,
  },
  {
    name: 'an exact space does not match its subdomains',
    space: 'contoso.com',
    domain: 'a.contoso.com',
    matches: false,
  },
  {
    name: '*.contoso.com matches a subdomain',
    space: '*.contoso.com',
    domain: 'a.contoso.com',
    matches: true,
  },
  {
    name: '*.contoso.com matches subdomains at any depth',
    space: '*.contoso.com',
    domain: 'x.y.contoso.com',
    matches: true,
  },
  {
    name: '*.contoso.com does not match contoso.com itself',
    space: '*.contoso.com',
    domain: 'contoso.com',
    matches: false,
  },
  {
    name: '*.contoso.com does not match notcontoso.com',
    space: '*.contoso.com',
    domain: 'notcontoso.com',
    matches: false,
  },
  {
    name: 'matching ignores case and a trailing dot',
    space: '*.Contoso.com',
    domain: 'A.CONTOSO.COM.',
    matches: true,
  },
];

describe('addressSpaceSpecificity', () => {
  for (const c of cases) {
    test(c.name, () =>
      assert.equal(addressSpaceSpecificity(c.space, c.domain) !== undefined, c.matches),
    );
  }

  test('exact > *.a.contoso.com > *.contoso.com > * for the domains each matches', () => {
    const exact = addressSpaceSpecificity('x.a.contoso.com', 'x.a.contoso.com') ?? -1;
    const deep = addressSpaceSpecificity('*.a.contoso.com', 'x.a.contoso.com') ?? -1;
    const shallow = addressSpaceSpecificity('*.contoso.com', 'x.a.contoso.com') ?? -1;
    const star = addressSpaceSpecificity('*', 'x.a.contoso.com') ?? -1;
    assert.ok(exact > deep && deep > shallow && shallow > star && star >= 0);
  });
});
