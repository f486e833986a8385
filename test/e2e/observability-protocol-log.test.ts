import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { makeMessage, makeTestCertificate, sendMail, SmtpDialog, waitFor } from '@mailbus/testing';
import { hashPassword } from '@mailbus/ingress';
import { GatewayFixture } from './support/gateway-fixture.js';

/** A W3C Extended Log File, read strictly: what a Log Parser `-i:IISW3C` run would need. */
interface W3CFile {
  directives: Array<{ name: string; value: string; line: number }>;
  rows: Array<Record<string, string>>;
}

const DEFAULT_FIELDS =
  'date time c-ip cs-username s-sitename s-computername s-ip s-port cs-method cs-uri-query sc-status sc-bytes cs-bytes time-taken';

/**
 * Reads a file as the W3C Extended Log File Format defines it, failing on anything a strict
 * reader would refuse: CRLF line ends only, a directive block (#Software, #Version: 1.0, #Date,
 * #Fields, in that order) before any data line, every data line with exactly the #Fields count
 * of space-separated values, no empty value (absent is `-`), no control character.
 */
function readW3C(text: string): W3CFile {
  assert.ok(text.endsWith('\r\n'), 'the file ends with CRLF');
  const lines = text.slice(0, -2).split('\r\n');
  const directives: W3CFile['directives'] = [];
  const rows: W3CFile['rows'] = [];
  let fields: string[] | undefined;
  let block: string[] = [];
  lines.forEach((line, i) => {
    const n = i + 1;
    assert.ok(
      !/[\x00-\x1f\x7f]/.test(line),
      `line ${n}: no control character (${JSON.stringify(line)})`,
    );
    if (line.startsWith('#')) {
      const m = /^#([A-Za-z-]+): (.*)$/.exec(line);
      assert.ok(
        m?.[1] !== undefined && m[2] !== undefined,
        `line ${n}: a directive is "#Name: value" (${line})`,
      );
      directives.push({ name: m[1], value: m[2], line: n });
      block.push(m[1]);
      if (m[1] === 'Fields') {
        assert.deepEqual(
          block,
          ['Software', 'Version', 'Date', 'Fields'],
          `line ${n}: the directive block is #Software, #Version, #Date, #Fields`,
        );
        fields = m[2].split(' ');
        block = [];
      } else if (m[1] === 'Version') {
        assert.equal(m[2], '1.0', `line ${n}: #Version: 1.0`);
      } else if (m[1] === 'Date') {
        assert.match(
          m[2],
          /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
          `line ${n}: #Date is yyyy-mm-dd hh:mm:ss`,
        );
      }
      return;
    }
    assert.ok(fields, `line ${n}: a data line comes after #Fields`);
    assert.deepEqual(block, [], `line ${n}: no data line inside a directive block`);
    const values = line.split(' ');
    assert.equal(
      values.length,
      fields.length,
      `line ${n}: ${values.length} values for ${fields.length} fields: ${line}`,
    );
    assert.ok(
      values.every((v) => v !== ''),
      `line ${n}: no empty value (absent is "-"): ${line}`,
    );
    rows.push(Object.fromEntries(fields.map((f, k) => [f, values[k] as string])));
  });
  return { directives, rows };
}

/** A value as it was before escaping: `-` is empty, `+` a space, `%XX` a byte. */
function unescape(v: string | undefined): string {
  if (v === undefined || v === '-') return '';
  return decodeURIComponent(v.replace(/\+/g, ' '));
}

/**
 * A client that speaks exactly the session under test, QUIT included (nodemailer's one-shot
 * transport drops the connection without QUIT): EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL, RCPT,
 * DATA, QUIT. Returns the reply to the end of DATA.
 */
async function session(
  port: number,
  user: string,
  pass: string,
  from: string,
  to: string,
  raw: string,
): Promise<string> {
  let socket: Socket = netConnect(port, '127.0.0.1');
  let buffer = '';
  let waiting: ((reply: string) => void) | undefined;
  const onData = (d: Buffer): void => {
    buffer += d.toString('latin1');
    const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buffer);
    if (m && waiting) {
      const reply = buffer;
      buffer = '';
      const w = waiting;
      waiting = undefined;
      w(reply);
    }
  };
  const next = (expect: number): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${expect} reply; got ${JSON.stringify(buffer)}`)),
        10_000,
      );
      waiting = (reply) => {
        clearTimeout(timer);
        const last = reply.trimEnd().split('\r\n').pop() ?? '';
        if (!last.startsWith(String(expect)))
          reject(new Error(`expected ${expect}, got ${JSON.stringify(reply)}`));
        else resolve(last);
      };
    });
  const say = (line: string, expect: number): Promise<string> => {
    const r = next(expect);
    socket.write(`${line}\r\n`);
    return r;
  };
  socket.on('data', onData);
  await next(220);
  await say('EHLO client.log.test', 250);
  await say('STARTTLS', 220);
  socket.off('data', onData);
  socket = await new Promise<Socket>((resolve, reject) => {
    const t = tlsConnect({ socket, rejectUnauthorized: false, servername: 'mx.log.test' }, () =>
      resolve(t),
    );
    t.once('error', reject);
  });
  socket.on('data', onData);
  await say('EHLO client.log.test', 250);
  await say(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64')}`, 235);
  await say(`MAIL FROM:<${from}>`, 250);
  await say(`RCPT TO:<${to}>`, 250);
  await say('DATA', 354);
  const queued = await say(`${raw.replace(/\r\n\./g, '\r\n..')}.`, 250);
  await say('QUIT', 221);
  socket.end();
  return queued;
}

const yymmdd = (t: number): string => {
  const d = new Date(t);
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
};

describe('the W3C protocol log of a real session, inbound and outbound', () => {
  let f: GatewayFixture<'sink', 'smtp' | 'dead'>;
  let dir: string;
  let cert: ReturnType<typeof makeTestCertificate>;
  let startedAt: number;
  let files: string[];
  let log: W3CFile;
  let text: string;
  let queueId: string;
  let rawBytes: number;
  let messageId: string;
  const password = 'correct horse battery staple';

  before(async () => {
    cert = makeTestCertificate('mx.log.test');
    dir = mkdtempSync(join(tmpdir(), 'mailbus-plog-'));
    const usersFile = join(dir, 'users');
    writeFileSync(usersFile, `# mailbus users\nrelayuser:${await hashPassword(password)}\n`);
    startedAt = Date.now();
    f = await GatewayFixture.start({
      sinks: { sink: {} },
      // dead: a port nothing listens on: the connector's smart host refuses the connection.
      ports: ['smtp', 'dead'],
      config: ({ redis, sinks: { sink }, ports: { smtp, dead } }) => `
redis: { url: "${redis.url}", commandTimeout: 1s }
virtualServers:
  - name: Default SMTP
    listen: 127.0.0.1:${smtp}
    fqdn: mx.log.test
    relay: { allow: [], allowAuthenticated: true }
    auth: { usersFile: "${usersFile}" }
    tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }
    protocolLog: { enabled: true, directory: "${join(dir, 'logs')}" }
connectors:
  - name: Dead
    smartHosts: ["[127.0.0.1]:${dead}"]
    bridgeheads: [Default SMTP]
    addressSpaces: [{ domain: dead.example }]
    allowRelay: true
  - name: Out
    smartHosts: ["[127.0.0.1]:${sink.port}"]
    bridgeheads: [Default SMTP]
    addressSpaces: [{ domain: "*" }]
`,
    });
    const { smtp } = f.ports;
    const raw = makeMessage({
      from: 'alice@sender.test',
      to: 'bob@remote.example',
      subject: 'protocol log',
    });
    const r = await session(
      smtp,
      'relayuser',
      password,
      'alice@sender.test',
      'bob@remote.example',
      raw,
    );
    queueId = /queued as ([0-9A-Z]+)$/.exec(r)?.[1] ?? '';
    assert.notEqual(queueId, '');
    rawBytes = Buffer.byteLength(raw);
    messageId = /^Message-ID: (<[^>]+>)/im.exec(raw)?.[1] ?? '';
    assert.notEqual(messageId, '');
    // A client that may not relay: its RCPT is refused, and the log says so on the RCPT line.
    const { dialog } = await SmtpDialog.open(smtp);
    assert.equal((await dialog.send('EHLO stranger.log.test')).code, 250);
    assert.equal((await dialog.send('MAIL FROM:<eve@stranger.test>')).code, 250);
    assert.equal((await dialog.send('RCPT TO:<carol@elsewhere.example>')).code, 550);
    await dialog.quit();
    // Mail for a connector whose smart host refuses connections.
    const deadRaw = makeMessage({ from: 'dan@sender.test', to: 'x@dead.example' });
    const deadReply = await sendMail({
      port: smtp,
      from: 'dan@sender.test',
      to: ['x@dead.example'],
      raw: deadRaw,
    });
    const deadId = /queued as ([0-9A-Z]+)$/.exec(deadReply.response)?.[1] ?? '';
    assert.notEqual(deadId, '');
    const queue = f.queue;
    await waitFor(
      async () => (await queue.tracking.history(queueId)).some((e) => e.type === 'delivered'),
      { timeoutMs: 10_000, intervalMs: 100, what: 'delivered' },
    );
    await waitFor(
      async () =>
        (await queue.tracking.history(deadId)).some(
          (e) => e.type === 'attempt' && e.connector === 'Dead',
        ),
      { timeoutMs: 20_000, intervalMs: 100, what: 'an attempt on Dead' },
    );
    // close() flushes every buffered line.
    await f.closeGateway();
    // One sub-directory per writing process (host-pid): processes never share a file.
    const nodeDir = join(dir, 'logs', 'Default SMTP', `${hostname()}-${process.pid}`);
    files = readdirSync(nodeDir);
    const [file] = files;
    text = readFileSync(join(nodeDir, file ?? 'missing'), 'utf8');
    log = readW3C(text);
    if (process.env.DUMP_PLOG) process.stderr.write(text);
  });

  after(async () => {
    await f?.close();
    cert?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('one daily file exyymmdd.log (UTC) in <directory>/<virtual server>/', () => {
    const names = new Set([`ex${yymmdd(startedAt)}.log`, `ex${yymmdd(Date.now())}.log`]);
    assert.equal(files.length, 1, `files: ${files.join(', ')}`);
    assert.ok(names.has(files[0] ?? ''), `${files[0]} is one of ${[...names].join(', ')}`);
    // Hourly, weekly (IIS week of month), monthly, size and local-time names are unit-tested
    // with an injected clock in libs/protocol-log (test/rollover.test.ts, test/local-time-naming.test.ts).
  });

  test('the file starts with #Software, #Version: 1.0, #Date and #Fields, the IIS default fields', () => {
    assert.deepEqual(
      log.directives.slice(0, 4).map((d) => [d.name, d.line]),
      [
        ['Software', 1],
        ['Version', 2],
        ['Date', 3],
        ['Fields', 4],
      ],
    );
    assert.match(log.directives[0]?.value ?? '', /^mailbus \d+\.\d+\.\d+/);
    assert.equal(log.directives[3]?.value, DEFAULT_FIELDS);
    assert.ok(log.rows.length > 20, `${log.rows.length} data lines`);
  });

  test('inbound: one line per command with its reply code, as IIS wrote it; DATA carries size and Message-ID', () => {
    const inbound = log.rows.filter((r) => r['cs-username'] === 'client.log.test');
    for (const r of inbound) {
      assert.equal(r['c-ip'], '127.0.0.1');
      assert.equal(r['s-ip'], '127.0.0.1');
      assert.equal(unescape(r['s-sitename']), 'Default SMTP');
      assert.match(r['date'] ?? '', /^\d{4}-\d\d-\d\d$/);
      assert.match(r['time'] ?? '', /^\d\d:\d\d:\d\d$/);
      assert.match(r['time-taken'] ?? '', /^\d+$/, 'time-taken in milliseconds on every line');
      assert.ok(Number(r['sc-bytes']) > 0, 'sc-bytes: the reply sent');
      assert.ok(Number(r['cs-bytes']) > 0, 'cs-bytes: the command received');
    }
    // No line for the greeting, no separate reply lines: each command line holds its reply's code.
    assert.deepEqual(
      inbound.map((r) => `${r['cs-method']} ${r['sc-status']}`),
      [
        'EHLO 250',
        'STARTTLS 220',
        'EHLO 250',
        'AUTH 235',
        'MAIL 250',
        'RCPT 250',
        'DATA 250',
        'QUIT 221',
      ],
    );
    const byMethod = (m: string) => inbound.find((r) => r['cs-method'] === m);
    assert.equal(unescape(byMethod('MAIL')?.['cs-uri-query']), 'FROM:<alice@sender.test>');
    assert.equal(unescape(byMethod('RCPT')?.['cs-uri-query']), 'TO:<bob@remote.example>');
    // cs-username holds the client's EHLO name, as IIS wrote it.
    assert.equal(byMethod('MAIL')?.['cs-username'], 'client.log.test');
    assert.equal(unescape(byMethod('EHLO')?.['cs-uri-query']), 'client.log.test');
    // DATA: the message's size in cs-bytes (as received, before dot-unstuffing: within a few
    // bytes of the raw text sent) and its Message-ID in cs-uri-query.
    const data = byMethod('DATA');
    assert.equal(unescape(data?.['cs-uri-query']), messageId);
    assert.ok(
      Math.abs(Number(data?.['cs-bytes']) - rawBytes) <= 2,
      `DATA cs-bytes ${data?.['cs-bytes']} is the message size ${rawBytes}`,
    );
  });

  test('a refused command is logged on its own line with the refusal code', () => {
    const stranger = log.rows.filter((r) => r['cs-username'] === 'stranger.log.test');
    assert.deepEqual(
      stranger.map((r) => `${r['cs-method']} ${r['sc-status']}`),
      ['EHLO 250', 'MAIL 250', 'RCPT 550', 'QUIT 221'],
    );
    assert.equal(unescape(stranger[2]?.['cs-uri-query']), 'TO:<carol@elsewhere.example>');
  });

  test('the AUTH payload never reaches the log: the line keeps the mechanism, the credentials are ****', () => {
    const auth = log.rows.find((r) => r['cs-method'] === 'AUTH');
    assert.equal(auth?.['cs-uri-query'], 'PLAIN+****');
    const plain = Buffer.from(`\u0000relayuser\u0000${password}`).toString('base64');
    assert.ok(!text.includes(plain), 'no base64 AUTH PLAIN blob');
    assert.ok(!text.includes(password.split(' ')[0] ?? password), 'no password word');
  });

  test('outbound lines name OutboundConnectionCommand / OutboundConnectionResponse with c-ip the smart host', () => {
    const all = log.rows.filter((r) => r['cs-username']?.startsWith('Outbound'));
    // The lines of the delivery to the sink (the other connector's smart host refuses).
    const out = all.filter((r) => r['s-port'] === String(f.sinks.sink.port));
    assert.ok(out.length > 0, 'outbound lines are written');
    for (const r of all) assert.equal(r['c-ip'], '127.0.0.1', 'c-ip is the remote server');
    const commands = out
      .filter((r) => r['cs-username'] === 'OutboundConnectionCommand')
      .map((r) => r['cs-method']);
    const responses = out.filter((r) => r['cs-username'] === 'OutboundConnectionResponse');
    for (const m of ['EHLO', 'MAIL', 'RCPT', 'DATA'])
      assert.ok(commands.includes(m), `outbound ${m} in ${commands.join(',')}`);
    assert.deepEqual(
      out
        .filter(
          (r) => r['cs-username'] === 'OutboundConnectionCommand' && r['cs-method'] === 'RCPT',
        )
        .map((r) => unescape(r['cs-uri-query'])),
      ['TO:<bob@remote.example>'],
    );
    for (const r of responses) assert.equal(r['cs-method'], '-');
    const codes = responses.map((r) => r['sc-status']);
    for (const code of ['220', '250', '354'])
      assert.ok(codes.includes(code), `a ${code} response in ${codes.join(',')}`);
  });

  test('a connection that fails before any reply leaves an outbound line: status 0 and why', () => {
    const failed = log.rows.filter(
      (r) => r['cs-username'] === 'OutboundConnectionResponse' && r['sc-status'] === '0',
    );
    assert.ok(failed.length >= 1, 'a line for the refused connection');
    assert.match(
      unescape(failed[0]?.['cs-uri-query']),
      /^connection failed: \w+ \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
    );
    assert.equal(failed[0]?.['c-ip'], '127.0.0.1');
  });
});
