#!/usr/bin/env node
// What an SMTP session costs a Node process before mailbus does anything:
// smtp-source (20 sessions, 5 KB, one connection per message) against
// (a) a trivial hand-written responder and (b) a bare smtp-server that
// discards the message, with mailbus's patches for its greeting pause and
// session ids (services/ingress/dist) so that it runs at full speed. Prints
// CPU ms per message of the server process.
//   node bench/smtp-floor.mjs [--count 5000]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { freePort, run, sleep } from './lib/procs.mjs';

const { values: opt } = parseArgs({ options: { count: { type: 'string', default: '5000' } } });
const count = Number(opt.count);

const TRIVIAL = `
import net from 'node:net';
net.createServer((s) => {
  s.setNoDelay(true);
  let data = false; let buf = '';
  s.write('220 floor ESMTP\\r\\n');
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      if (data) {
        const i = buf.indexOf('\\r\\n.\\r\\n');
        if (i < 0) { if (buf.length > 5) buf = buf.slice(-5); return; }
        buf = buf.slice(i + 5); data = false; s.write('250 2.0.0 Ok: queued\\r\\n'); continue;
      }
      const i = buf.indexOf('\\r\\n'); if (i < 0) return;
      const line = buf.slice(0, i).toUpperCase(); buf = buf.slice(i + 2);
      if (line.startsWith('EHLO')) s.write('250-floor\\r\\n250 8BITMIME\\r\\n');
      else if (line.startsWith('DATA')) { s.write('354 go\\r\\n'); data = true; }
      else if (line.startsWith('QUIT')) s.end('221 bye\\r\\n');
      else s.write('250 ok\\r\\n');
    }
  });
  s.on('error', () => {});
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

const BARE = `
import { MailbusSmtpServer } from './dist/src/mailbus-smtp-server.js';
new MailbusSmtpServer({
  authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, disableReverseLookup: true,
  onData(stream, session, cb) { stream.on('data', () => {}); stream.on('end', () => cb(null, 'ok')); },
}, { greetingDelayMs: 0, allowPlaintextAuth: false, etrnAllowed: () => false }).listen(Number(process.argv[1]), '127.0.0.1');
`;

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

for (const [name, code] of [
  ['trivial responder', TRIVIAL],
  ['bare smtp-server', BARE],
]) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, String(port)], {
    cwd: new URL('../services/ingress/', import.meta.url),
    stdio: 'inherit',
  });
  await sleep(700);
  const before = cpuMs(child.pid);
  const t = performance.now();
  await run('smtp-source', [
    '-s',
    '20',
    '-m',
    String(count),
    '-l',
    '5120',
    '-f',
    'a@b.test',
    '-t',
    'c@d.test',
    `127.0.0.1:${port}`,
  ]);
  const s = (performance.now() - t) / 1000;
  console.log(
    `${name.padEnd(18)} ${((cpuMs(child.pid) - before) / count).toFixed(3)} ms CPU/msg, ${(count / s).toFixed(0)} msg/s`,
  );
  child.kill();
}
process.exit(0);
