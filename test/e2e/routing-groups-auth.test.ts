import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '@mailbus/ingress';
import {
  makeMessage,
  makeTestCa,
  makeTestCertificate,
  sendMail,
  SmtpDialog,
  waitFor,
  type IssuedCertificate,
} from '@mailbus/testing';
import { header } from './support/message-headers.js';
import { TwoSites } from './support/two-sites.js';

/** An X-LINK2STATE report older than anything known: believed or not, it changes nothing. */
const HARMLESS_REPORT = 'X-LINK2STATE Paris 1 -';
const PASSWORD = 'paris-site-secret';

/**
 * Paris -> a Boston mailbox over Paris-Boston: Boston, which believes only
 * authenticated sites, keeps the visited groups ("Paris, Boston") and the
 * handed-over queue id (its received event says where the message came from).
 */
async function crossesAndIsBelieved(sites: TwoSites): Promise<void> {
  const to = 'bob@boston.contoso.test';
  const from = 'ann@paris.contoso.test';
  const r = await sendMail({
    port: sites.ports.paris,
    from,
    to: [to],
    raw: makeMessage({ from, to }),
  });
  const parisId = /queued as ([0-9A-Z]+)$/.exec(r.response)?.[1] ?? '';
  const m = await waitFor(() => sites.sinks.bostonMailbox.messages.find((x) => x.to.includes(to)), {
    timeoutMs: 30_000,
    what: 'the message at the Boston mailbox',
  });
  assert.deepEqual(header(m, 'X-Mailbus-Routing-Groups'), ['Paris, Boston']);
  assert.deepEqual(header(m, 'X-Mailbus-Trace-Context'), [], 'removed before it was stored');
  await waitFor(
    () => new RegExp(`from routing group Paris as ${parisId}$`, 'm').test(sites.track(parisId)),
    {
      timeoutMs: 10_000,
      intervalMs: 500,
      what: "Boston's received event naming Paris's queue id",
    },
  );
}

/** Paris's Internet connector down: Boston hears it over the authenticated exchange within 30 s. */
async function linkStateCrosses(sites: TwoSites): Promise<void> {
  assert.equal(sites.firstConnector('boston-gw', 'x@example.net'), 'Boston-Paris');
  const started = Date.now();
  await sites.markDownInParis('Internet');
  await waitFor(() => sites.firstConnector('boston-gw', 'x@example.net') === 'BostonISP', {
    timeoutMs: 30_000,
    intervalMs: 500,
    what: "Boston to learn that Paris's Internet connector is down",
  });
  assert.ok(Date.now() - started < 30_000);
}

/** A session to Boston from `localAddress`, EHLO done. */
async function bostonSession(sites: TwoSites, localAddress = '127.0.0.1'): Promise<SmtpDialog> {
  const { dialog } = await SmtpDialog.open(sites.ports.boston, '127.0.0.1', localAddress);
  assert.equal((await dialog.send('EHLO client.test')).code, 250);
  return dialog;
}

describe('routing groups as sites: Boston believes only sites that authenticate with AUTH (siteTrust: authenticated)', () => {
  let sites: TwoSites;
  const cert = makeTestCertificate('boston-gw.contoso.test');

  before(async () => {
    sites = await TwoSites.start({
      files: async (dir) =>
        writeFileSync(join(dir, 'users'), `paris:${await hashPassword(PASSWORD)}\n`),
      boston: (dir) =>
        `, siteTrust: authenticated, auth: { usersFile: "${join(dir, 'users')}" }, tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }`,
      parisToBoston: () =>
        '{ tls: required, auth: basic, username: paris, passwordEnv: PARIS_SITE_PASSWORD }',
      env: { PARIS_SITE_PASSWORD: PASSWORD },
    });
  });

  after(async () => {
    await sites?.close();
    cert.cleanup();
  });

  test('Paris -> Boston mailbox: the routing groups and the trace context of an authenticated Paris are believed', () =>
    crossesAndIsBelieved(sites));

  test('a client in relay.allow that did not authenticate: X-LINK2STATE 550 5.7.1 (250 once it has), its site headers removed', async () => {
    const d = await bostonSession(sites);
    const refused = await d.send(HARMLESS_REPORT);
    assert.equal(refused.code, 550);
    assert.match(refused.text, /^5\.7\.1 /);
    assert.equal((await d.startTls()).code, 220);
    assert.equal((await d.send('EHLO client.test')).code, 250);
    const plain = Buffer.from(`\0paris\0${PASSWORD}`).toString('base64');
    assert.equal((await d.send(`AUTH PLAIN ${plain}`)).code, 235);
    assert.equal((await d.send(HARMLESS_REPORT)).code, 250);
    await d.quit();

    const to = 'carol@boston.contoso.test';
    const from = 'mallory@outside.test';
    await sendMail({
      port: sites.ports.boston,
      from,
      to: [to],
      raw: makeMessage({
        from,
        to,
        headers: {
          'X-Mailbus-Routing-Groups': 'Paris',
          'X-Mailbus-Trace-Context': 'site=Paris; queue-id=FORGED',
        },
      }),
    });
    const m = await waitFor(
      () => sites.sinks.bostonMailbox.messages.find((x) => x.to.includes(to)),
      {
        timeoutMs: 30_000,
        what: 'the relay.allow client’s message at the Boston mailbox',
      },
    );
    assert.deepEqual(header(m, 'X-Mailbus-Routing-Groups'), ['Boston'], 'Paris not believed');
    assert.deepEqual(header(m, 'X-Mailbus-Trace-Context'), []);
  });

  test("Paris's Internet connector down: Boston learns it within 30 s over the AUTH session", () =>
    linkStateCrosses(sites));
});

describe('routing groups as sites: Boston believes only sites with a verified client certificate (tls.clientCa)', () => {
  let sites: TwoSites;
  const ca = makeTestCa('Contoso sites CA');
  const server = makeTestCertificate('boston-gw.contoso.test');
  /** Not issued by the sites' CA. */
  const stranger = makeTestCertificate('paris-gw.contoso.test');
  let parisCert: IssuedCertificate;

  before(async () => {
    parisCert = ca.issue('paris-gw.contoso.test');
    sites = await TwoSites.start({
      boston: () =>
        `, siteTrust: authenticated, tls: { cert: "${server.certFile}", key: "${server.keyFile}", clientCa: "${ca.certFile}" }`,
      parisToBoston: () =>
        `{ tls: required, clientCert: "${parisCert.certFile}", clientKey: "${parisCert.keyFile}" }`,
    });
  });

  after(async () => {
    await sites?.close();
    for (const c of [ca, server, stranger]) c.cleanup();
  });

  test('Paris -> Boston mailbox: the routing groups and the trace context of Paris, certificate verified, are believed', () =>
    crossesAndIsBelieved(sites));

  test('no certificate, or one the CA did not issue, authenticates nothing: X-LINK2STATE 550 5.7.1, no relay; the CA-issued one both', async () => {
    const attempt = async (key?: string, cert?: string) => {
      const d = await bostonSession(sites, '127.0.0.2');
      assert.equal((await d.startTls(key && cert ? { key, cert } : {})).code, 220);
      assert.equal((await d.send('EHLO client.test')).code, 250);
      const linkState = (await d.send(HARMLESS_REPORT)).code;
      assert.equal((await d.send('MAIL FROM:<a@outside.test>')).code, 250);
      const relay = (await d.send('RCPT TO:<x@example.net>')).code;
      await d.quit();
      return { linkState, relay };
    };
    // Asked for, never required: TLS without a certificate goes on, unauthenticated.
    assert.deepEqual(await attempt(), { linkState: 550, relay: 550 });
    assert.deepEqual(await attempt(stranger.key, stranger.cert), { linkState: 550, relay: 550 });
    assert.deepEqual(
      await attempt(
        readFileSync(parisCert.keyFile, 'utf8'),
        readFileSync(parisCert.certFile, 'utf8'),
      ),
      { linkState: 250, relay: 250 },
    );
  });

  test("Paris's Internet connector down: Boston learns it within 30 s over the certificate session", () =>
    linkStateCrosses(sites));
});
