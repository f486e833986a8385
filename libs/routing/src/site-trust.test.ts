import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientAuthenticated, trustsSite, type SessionClient } from './site-trust.js';

const client = (relayAllowed: boolean, authUser: boolean, verifiedCertificate: boolean) => ({
  relayAllowed,
  authUser,
  verifiedCertificate,
});

const cases: Array<{
  who: string;
  c: SessionClient;
  authenticated: boolean;
  relay: boolean;
  strict: boolean;
}> = [
  {
    who: 'a stranger',
    c: client(false, false, false),
    authenticated: false,
    relay: false,
    strict: false,
  },
  {
    who: 'relay.allow only',
    c: client(true, false, false),
    authenticated: false,
    relay: true,
    strict: false,
  },
  { who: 'AUTH', c: client(false, true, false), authenticated: true, relay: true, strict: true },
  {
    who: 'a verified client certificate',
    c: client(false, false, true),
    authenticated: true,
    relay: true,
    strict: true,
  },
  {
    who: 'relay.allow and AUTH',
    c: client(true, true, false),
    authenticated: true,
    relay: true,
    strict: true,
  },
  {
    who: 'relay.allow and a certificate',
    c: client(true, false, true),
    authenticated: true,
    relay: true,
    strict: true,
  },
];

describe('site trust: who is believed about routing groups, trace context and link state', () => {
  for (const x of cases) {
    test(`${x.who}: authenticated ${x.authenticated}, siteTrust relay ${x.relay}, authenticated ${x.strict}`, () => {
      assert.equal(clientAuthenticated(x.c), x.authenticated);
      assert.equal(trustsSite('relay', x.c), x.relay);
      assert.equal(trustsSite('authenticated', x.c), x.strict);
    });
  }
});
