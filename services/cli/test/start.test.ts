import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, OwnClock, SinkServer, waitFor } from '@mailbus/testing';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.js');
const hasSwaks = spawnSync('swaks', ['--version']).status === 0;

test(
  'mailbus start with no Redis configured runs every role on an embedded redis-server, and swaks relays through it',
  { skip: !hasSwaks && 'swaks is not installed' },
  async () => {
    const sink = await SinkServer.start();
    const smtp = await freePort();
    const admin = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-start-'));
    const file = join(dir, 'mailbus.yaml');
    writeFileSync(
      file,
      `
admin: { listen: "127.0.0.1:${admin}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.start.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${sink.port}"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`,
    );
    const child = spawn(process.execPath, [MAIN, 'start', '--config', file], {
      cwd: dir, // the embedded Redis keeps its data in ./.mailbus
      env: { ...process.env, MAILBUS_TEST_TOKEN: 'secret', MAILBUS_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // 20 s of the process's own time: on a loaded machine most of its wall
    // time is spent waiting for a CPU (own-time.ts), which says nothing of mailbus.
    const clock = new OwnClock(child.pid ?? 0);
    try {
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`mailbus start exited: ${output}`);
          return output.includes(`listening on 127.0.0.1:${smtp}`);
        },
        {
          timeoutMs: 20_000,
          clock: clock.now,
          what: () =>
            `mailbus start to listen (${clock.wallMs()} ms of wall time; output so far: ${output})`,
        },
      );
      assert.match(output, /\(embedded\)/);
      const swaks = spawnSync(
        'swaks',
        [
          '--server',
          `127.0.0.1:${smtp}`,
          '--from',
          'a@sender.test',
          '--to',
          'b@far.example',
          '--h-Subject',
          'hello from swaks',
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.equal(swaks.status, 0, swaks.stdout + swaks.stderr);
      assert.match(swaks.stdout, /<-\s+250 2\.0\.0 OK queued as /);
      const [msg] = await sink.waitForMessages(1, 20_000);
      assert.match(msg?.raw.toString() ?? '', /Subject: hello from swaks/);
      // The admin role in the same process: probes open, everything else behind the token.
      const base = `http://127.0.0.1:${admin}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.match(
        await (await fetch(`${base}/metrics`)).text(),
        /mailbus_messages_accepted_total\{[^}]*virtual_server="default"[^}]*\} 1/,
      );
      assert.equal((await fetch(`${base}/api/connectors`)).status, 401);
      const api = await fetch(`${base}/api/connectors`, {
        headers: { authorization: 'Bearer secret' },
      });
      assert.equal(api.status, 200);
      assert.match(await api.text(), /"Internet"/);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      clock.stop();
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `mailbus exits 0 on SIGTERM; output: ${output}`);
      await sink.close();
    }
  },
);
