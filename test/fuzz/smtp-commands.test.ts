import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { prng, freePort, RedisServer, SmtpDialog } from '@mailbus/testing';
import type { Gateway } from '@mailbus/cli';
import { startGateway } from '../e2e/support/start-gateway.js';

const LINES = 3000;
const BUDGET_MS = 20_000;

const SEEDS = [
  'EHLO client.test',
  'HELO client.test',
  'MAIL FROM:<a@sender.test>',
  'MAIL FROM:<a@sender.test> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=x',
  'MAIL FROM:<> SMTPUTF8',
  'RCPT TO:<b@a.example>',
  'RCPT TO:<b@a.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@a.example',
  'RCPT TO:<@x.example:b@a.example>',
  'RSET',
  'NOOP',
  'VRFY postmaster',
  'HELP',
  'AUTH PLAIN AGFAYg==',
  'STARTTLS',
  'ETRN a.example',
];

describe('fuzz: random and mutated SMTP command lines never crash or hang ingress', () => {
  let redis: RedisServer;
  let gateway: Gateway;
  let port: number;

  before(async () => {
    redis = await RedisServer.start();
    port = await freePort();
    gateway = await startGateway(
      `
organization: Test
redis: { url: "${redis.url}" }
virtualServers:
  - name: mx
    listen: 127.0.0.1:${port}
    fqdn: mx.test
    relay: { allow: [] }
    limits: { maxConnectionsPerIp: 200 }
connectors:
  - name: Alpha
    smartHosts: ["[127.0.0.1]:9"]
    bridgeheads: [mx]
    addressSpaces: [{ domain: a.example }]
`,
      ['ingress'],
    );
  });
  after(async () => {
    await gateway?.close();
    await redis?.close();
  });

  test(`${LINES} fuzzed lines within ${BUDGET_MS / 1000} s: each answered within 2 s (or the session closed cleanly), and EHLO works after`, async () => {
    const random = prng(Number(process.env.MAILBUS_FUZZ_SEED ?? 7));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const mutate = (s: string): string => {
      const b = Buffer.from(s, 'latin1');
      const out: number[] = [...b];
      const n = 1 + Math.floor(random() * 6);
      for (let i = 0; i < n; i++) {
        const op = random();
        const at = Math.floor(random() * (out.length + 1));
        if (op < 0.3) out.splice(at, 1);
        else if (op < 0.6) out.splice(at, 0, Math.floor(random() * 256));
        else if (op < 0.75)
          out.splice(
            at,
            0,
            ...Buffer.from(
              pick(['<', '>', ':', '=', ' ', '@', '"', '\\', '%', '!', '[', ']', '\u0000']),
            ),
          );
        else if (op < 0.85) out.splice(at, 0, ...Buffer.alloc(Math.floor(random() * 700), 0x41));
        else if (at < out.length) out[at] = Math.floor(random() * 256);
      }
      // CR and LF would split the line in two: keep one line per send.
      return Buffer.from(out.filter((c) => c !== 0x0a && c !== 0x0d)).toString('latin1');
    };
    const started = Date.now();
    let sent = 0;
    let closed = 0;
    let dialog: SmtpDialog | undefined;
    while (sent < LINES && Date.now() - started < BUDGET_MS) {
      if (!dialog || dialog.closed) {
        dialog?.close();
        const o = await SmtpDialog.open(port);
        dialog = o.dialog;
      }
      const line =
        random() < 0.2
          ? Buffer.from(
              Array.from(
                { length: Math.floor(random() * 80) },
                () => 32 + Math.floor(random() * 95),
              ),
            ).toString('latin1')
          : mutate(pick(SEEDS));
      sent++;
      if (/^\s*(DATA|BDAT|STARTTLS|AUTH|QUIT)\b/i.test(line)) continue; // would change the framing of the dialog
      try {
        dialog.write(Buffer.from(`${line}\r\n`, 'latin1'));
        const r = await dialog.read(2000);
        assert.ok(r.code >= 200 && r.code < 600, `a reply code for ${JSON.stringify(line)}`);
      } catch (e) {
        if (!dialog.closed)
          throw new Error(
            `no reply within 2 s to ${JSON.stringify(line)}: ${(e as Error).message}`,
          );
        closed++;
      }
    }
    dialog?.close();
    const { dialog: after, greeting } = await SmtpDialog.open(port);
    assert.equal(greeting.code, 220);
    assert.equal((await after.send('EHLO still.alive')).code, 250);
    await after.quit();
    console.log(
      `fuzz: ${sent} lines in ${Date.now() - started} ms, ${closed} sessions closed by the server`,
    );
    assert.ok(sent >= 500, 'a meaningful number of lines was tried');
  });
});
