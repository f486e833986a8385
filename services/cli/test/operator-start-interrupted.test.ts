import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, waitFor } from '@mailbus/testing';
import { MailbusProcess, workDir } from './mailbus-process.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A redis-server that is slow to come up (as one loading a large AOF is): it
 * records its pid, waits, then becomes the real redis-server (same pid).
 */
function slowRedisServer(dir: string): { path: string; pidFile: string } {
  const bin = join(dir, 'slow-bin');
  mkdirSync(bin);
  const pidFile = join(dir, 'redis.pid');
  const real = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(bin, 'redis-server'),
    `#!/bin/sh\necho $$ > ${pidFile}\nsleep 3\nexec ${real} "$@"\n`,
  );
  chmodSync(join(bin, 'redis-server'), 0o755);
  return { path: `${bin}:${process.env.PATH ?? ''}`, pidFile };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(
    `${signal} while the embedded Redis is still starting stops that redis-server too, and the next start works`,
    { timeout: 90_000 },
    async () => {
      const smtp = await freePort();
      const { dir, config } = workDir(`
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.interrupted.test }
`);
      const slow = slowRedisServer(dir);
      let gw = MailbusProcess.spawn(['start', '--config', config], {
        cwd: dir,
        env: { PATH: slow.path },
      });
      try {
        await waitFor(() => existsSync(slow.pidFile) && readFileSync(slow.pidFile, 'utf8') !== '', {
          what: 'the redis-server child to be spawned',
        });
        const redisPid = Number(readFileSync(slow.pidFile, 'utf8').trim());
        assert.ok(alive(redisPid), 'redis-server is starting');
        assert.ok(!gw.output.includes('mailbus running'), 'mailbus has not finished starting');
        // Ctrl-C reaches mailbus's process group; the redis-server has its own.
        gw.signalGroup(signal);
        const exit = await gw.exited;
        assert.equal(exit.signal, null, gw.output);
        assert.ok(!alive(redisPid), `redis-server ${redisPid} is gone once mailbus has exited`);
        assert.ok(!existsSync(join(dir, '.mailbus', 'run.json')), 'no run file left behind');

        gw = MailbusProcess.spawn(['start', '--config', config], { cwd: dir });
        await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
        gw.interrupt();
        assert.deepEqual(await gw.exited, { code: 0, signal: null }, gw.output);
        assert.match(gw.output, /mailbus stopped: no messages queued/);
      } finally {
        await gw.stop();
      }
    },
  );
}
