import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, RedisServer, waitFor } from '@mailbus/testing';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.js');
const hasScript = spawnSync('script', ['--version']).status === 0;

let redis: RedisServer;
let dir: string;
let file: string;
let smtp: number;

before(async () => {
  redis = await RedisServer.start();
  dir = mkdtempSync(join(tmpdir(), 'mailbus-logfmt-'));
  file = join(dir, 'mailbus.yaml');
  smtp = await freePort();
  const admin = await freePort();
  writeFileSync(
    file,
    `
redis: { url: "${redis.url}" }
admin: { listen: "127.0.0.1:${admin}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.logfmt.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`,
  );
});

after(async () => {
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `command` until it prints that SMTP listens, stops its process group with SIGTERM, returns its stdout. */
async function runUntilListening(command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, {
    env: { ...process.env, MAILBUS_REDIS_URL: '', MAILBUS_TEST_TOKEN: 'secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let all = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    all += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (all += d.toString()));
  let running = true;
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      running = false;
      r();
    }),
  );
  try {
    await waitFor(() => all.includes(`listening on 127.0.0.1:${smtp}`) || !running, {
      timeoutMs: 20_000,
      what: `mailbus to listen (output: ${all})`,
    });
    assert.ok(running, `mailbus exited before listening: ${all}`);
  } finally {
    if (child.pid && running) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  return stdout;
}

test('piped (not a terminal), mailbus start logs one JSON object per line', async () => {
  const out = await runUntilListening(process.execPath, [MAIN, 'start', '--config', file]);
  // The banner went to stderr: stdout is nothing but JSON lines.
  const lines = out.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0);
  for (const l of lines) assert.match(l, /^\{.*\}$/, `a JSON line on stdout: ${l}`);
  assert.doesNotMatch(out, /mailbus running/);
  const stopping = lines.find((l) => l.includes('stopping'));
  assert.ok(stopping, out);
  const o = JSON.parse(stopping) as { level?: string; signal?: string; msg?: string };
  assert.equal(o.level, 'info');
  assert.equal(o.signal, 'SIGTERM');
});

test('--log-format human writes key=value lines a person reads', async () => {
  const out = await runUntilListening(process.execPath, [
    MAIN,
    'start',
    '--config',
    file,
    '--log-format',
    'human',
  ]);
  assert.match(
    out,
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {2}stopping: no new sessions, finishing work in flight signal=SIGTERM$/m,
  );
  assert.doesNotMatch(out, /^\{/m, 'no JSON line');
});

test(
  'on a terminal (a pty) the default is the human format',
  { skip: !hasScript && 'script(1) is not installed' },
  async () => {
    const cmd = [process.execPath, MAIN, 'start', '--config', file].map((a) => `'${a}'`).join(' ');
    const out = await runUntilListening('script', ['-qefc', cmd, '/dev/null']);
    // The bridgehead's start line (the pty closes before the stop line could be read).
    assert.match(
      out,
      /^\S+Z info {2}\S+ +delivering role=bridgehead connectors=Internet,@local\r?$/m,
    );
    assert.doesNotMatch(out, /"level":/);
  },
);

test('--log-format with another value is a usage error naming the choices', () => {
  const r = spawnSync(process.execPath, [MAIN, 'start', '--config', file, '--log-format', 'xml'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--log-format: must be json or human, not "xml"/);
});
