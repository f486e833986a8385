import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mailbus/testing';

export const MAIN = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../services/cli/dist/src/main.js',
);

/**
 * The built `mailbus start` as a child process on a YAML config written to a
 * temporary directory: what an operator runs. Resolves once every virtual
 * server listens; close() sends SIGTERM and waits for the exit.
 */
export class MailbusProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    private readonly out: { text: string },
  ) {}

  static async start(
    yaml: string,
    opts: { env?: NodeJS.ProcessEnv; listening: string[]; args?: string[] },
  ): Promise<MailbusProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'mailbus-proc-'));
    const file = join(dir, 'mailbus.yaml');
    writeFileSync(file, yaml);
    const child = spawn(
      process.execPath,
      [MAIN, 'start', '--config', file, ...(opts.args ?? ['--role', 'ingress,bridgehead'])],
      {
        env: { ...process.env, MAILBUS_REDIS_URL: '', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out = { text: '' };
    child.stdout?.on('data', (d: Buffer) => (out.text += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out.text += d.toString()));
    const p = new MailbusProcess(child, dir, out);
    try {
      await waitFor(
        () =>
          child.exitCode !== null ||
          opts.listening.every((a) => out.text.includes(`listening on ${a}`)),
        { timeoutMs: 30_000, intervalMs: 50, what: `mailbus start (output: ${out.text})` },
      );
      if (child.exitCode !== null)
        throw new Error(`mailbus start exited ${child.exitCode}: ${out.text}`);
    } catch (err) {
      await p.close();
      throw err;
    }
    return p;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.out.text;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
