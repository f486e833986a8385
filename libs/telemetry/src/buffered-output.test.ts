import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';

// The built package, as a service imports it; the child process loads it by file URL.
const INDEX_URL = new URL('./index.js', import.meta.url).href;

interface Child {
  proc: ChildProcess;
  /** stdout lines so far, each with when it arrived (ms since spawn). */
  lines: Array<{ text: string; at: number }>;
  /** When the child said on stderr that it had logged everything (ms since spawn). */
  logged: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the child wrote to stderr: its failure, if it failed. */
  stderr: () => string;
}

/**
 * Runs `body` in a child node process after setting up
 * `const out = bufferedOutput(<options>); const logger = createLogger({… destination: out.destination })`.
 */
function runChild(options: string, body: string): Child {
  const script = `
import { bufferedOutput, createLogger } from ${JSON.stringify(INDEX_URL)};
const out = bufferedOutput(${options});
const logger = createLogger({ level: 'info', name: 'child', destination: out.destination });
${body}
`;
  const started = Date.now();
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Child['lines'] = [];
  let partial = '';
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) lines.push({ text, at: Date.now() - started });
  });
  let stderr = '';
  const logged = new Promise<number>((resolve) => {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('logged\n')) resolve(Date.now() - started);
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, lines, logged, exited, stderr: () => stderr };
}

const messages = (c: Child): unknown[] =>
  c.lines.map((l) => (JSON.parse(l.text) as Record<string, unknown>)['msg']);

async function waitForLines(c: Child, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (c.lines.length < n) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${n} lines (have ${c.lines.length}): ${c.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const LOG_THREE = `
logger.info('first');
logger.info({ connector: 'Internet' }, 'second');
logger.warn('third');
process.stderr.write('logged\\n');
`;

describe('bufferedOutput in a real process writing to stdout', () => {
  test('a process that ends normally has written every line, in order, to stdout', async () => {
    const child = runChild('', LOG_THREE);
    const { code } = await child.exited;
    assert.equal(code, 0, child.stderr());
    assert.deepEqual(messages(child), ['first', 'second', 'third']);
    assert.equal(
      (JSON.parse(child.lines[1]?.text ?? '{}') as Record<string, unknown>)['connector'],
      'Internet',
    );
  });

  test('process.exit with a code still writes the buffered lines and keeps the code', async () => {
    const child = runChild('', `${LOG_THREE}\nprocess.exit(3);`);
    const { code } = await child.exited;
    assert.equal(code, 3, child.stderr());
    assert.deepEqual(messages(child), ['first', 'second', 'third']);
  });

  test('a process that stays alive has its few lines on stdout within a second', async () => {
    // Far less than the 4 KiB buffer: only the periodic flush can write these.
    const child = runChild('', `${LOG_THREE}\nsetTimeout(() => undefined, 30_000);`);
    try {
      const loggedAt = await child.logged;
      await waitForLines(child, 3, 5_000);
      assert.deepEqual(messages(child), ['first', 'second', 'third']);
      const last = child.lines[2]?.at ?? Infinity;
      assert.ok(last - loggedAt < 1_000, `lines came ${last - loggedAt} ms after logging`);
      assert.equal(child.proc.exitCode, null, 'the child is still running');
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });

  test('lines under bufferBytes wait for the timer instead of one write each', async () => {
    const child = runChild(
      '{ flushMs: 60_000 }',
      `${LOG_THREE}\nsetTimeout(() => undefined, 30_000);`,
    );
    try {
      await child.logged;
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(child.lines, [], 'lines were written before the buffer filled');
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });

  test('once bufferBytes have gathered they are written without waiting for the timer', async () => {
    const child = runChild(
      '{ flushMs: 60_000, bufferBytes: 1024 }',
      `for (let i = 0; i < 20; i++) logger.info({ i, pad: 'x'.repeat(100) }, 'line ' + i);
process.stderr.write('logged\\n');
setTimeout(() => undefined, 30_000);`,
    );
    try {
      await child.logged;
      // 20 lines of ~200 bytes: everything past the last full 1 KiB is still buffered.
      await waitForLines(child, 5, 2_000);
      const got = messages(child);
      assert.deepEqual(
        got,
        got.map((_, i) => `line ${i}`),
      );
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });
});
