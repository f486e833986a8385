import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, RedisServer, SmtpDialog, waitFor } from '@mailbus/testing';
import { MailbusProcess } from './support/mailbus-process.js';

type LogLine = Record<string, unknown>;

/** The JSON lines a `mailbus start` with its stdout on a pipe has written so far. */
function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe('refusals at the SMTP level each write one log line an operator can search', () => {
  let redis: RedisServer;
  let mailbus: MailbusProcess;
  let smtp: number;

  before(async () => {
    redis = await RedisServer.start();
    smtp = await freePort();
    mailbus = await MailbusProcess.start(
      `
redis: { url: "${redis.url}" }
virtualServers:
  - { name: edge, listen: "127.0.0.1:${smtp}", fqdn: mx.events.test, maxMessageSizeKB: 10, relay: { allow: [] } }
connectors:
  - { name: Out, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [edge], addressSpaces: [{ domain: "*" }] }
`,
      { listening: [`127.0.0.1:${smtp}`] },
    );
  });

  after(async () => {
    await mailbus?.close();
    await redis?.close();
  });

  test('a relay denial at RCPT and a SIZE= refusal at MAIL: client, HELO, sender, recipient, command and reply', async () => {
    const { dialog } = await SmtpDialog.open(smtp);
    assert.equal((await dialog.send('EHLO stranger.events.test')).code, 250);
    assert.equal((await dialog.send('MAIL FROM:<eve@outside.example>')).code, 250);
    const denied = await dialog.send('RCPT TO:<victim@elsewhere.example>');
    assert.equal(denied.code, 550);
    assert.equal((await dialog.send('RSET')).code, 250);
    const big = await dialog.send('MAIL FROM:<eve@outside.example> SIZE=999999');
    assert.equal(big.code, 552);
    await dialog.quit();
    const rejected = await waitFor(
      () => {
        const r = jsonLines(mailbus.output).filter((l) => l['msg'] === 'rejected');
        return r.length >= 2 ? r : undefined;
      },
      { timeoutMs: 10_000, what: `two rejected lines (output: ${mailbus.output})` },
    );
    const [rcpt, mail] = rejected;
    assert.deepEqual(
      {
        category: rcpt?.['category'],
        level: rcpt?.['level'],
        client_ip: rcpt?.['client_ip'],
        helo: rcpt?.['helo'],
        sender: rcpt?.['sender'],
        recipient: rcpt?.['recipient'],
        command: rcpt?.['command'],
        dsn: rcpt?.['dsn'],
        status: rcpt?.['status'],
      },
      {
        category: 'smtp',
        level: 'info',
        client_ip: '127.0.0.1',
        helo: 'stranger.events.test',
        sender: 'eve@outside.example',
        recipient: 'victim@elsewhere.example',
        command: 'RCPT',
        dsn: '5.7.1',
        status: 'rejected',
      },
    );
    assert.match(String(rcpt?.['reply']), /^550 5\.7\.1 /);
    assert.equal(mail?.['command'], 'MAIL');
    assert.equal(mail?.['sender'], 'eve@outside.example');
    assert.match(String(mail?.['reply']), /^552 5\.3\.4 /);
  });
});
