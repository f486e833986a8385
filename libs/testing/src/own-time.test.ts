import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { OwnClock } from './own-time.js';

const exited = (pid: ReturnType<typeof spawn>) =>
  new Promise<void>((r) => pid.once('exit', () => r()));

test('a child that sleeps has all of its sleep on its own clock: waiting on a timer or a socket is its own time', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1500)']);
  const clock = new OwnClock(child.pid ?? 0);
  await exited(child);
  clock.stop();
  assert.ok(clock.now() >= 1400, `own ${clock.now()} ms of ${clock.wallMs()} ms wall`);
  assert.ok(clock.now() <= clock.wallMs());
});

test(
  'a child that waits for a CPU behind busy processes pinned to its core does not have that wait on its own clock',
  { skip: !existsSync('/proc/self/schedstat') && 'no /proc/<pid>/schedstat here' },
  async () => {
    // Three busy loops and the child on CPU 0 (taskset): the child gets about a quarter of it.
    const busy = [1, 2, 3].map(() =>
      spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' }),
    );
    try {
      const child = spawn('taskset', [
        '-c',
        '0',
        process.execPath,
        '-e',
        'const t = Date.now(); while (Date.now() - t < 1500) {}',
      ]);
      await new Promise((r) => setTimeout(r, 100)); // taskset has exec'd node (same pid)
      const clock = new OwnClock(child.pid ?? 0);
      await exited(child);
      clock.stop();
      // 1.5 s of wall time spinning, of which about three quarters waiting for CPU 0.
      assert.ok(clock.now() < 1000, `own ${clock.now()} ms of ${clock.wallMs()} ms wall`);
    } finally {
      for (const b of busy) b.kill('SIGKILL');
    }
  },
);
