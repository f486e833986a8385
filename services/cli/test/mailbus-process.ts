import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OwnClock, waitFor } from '@mailbus/testing';

/** The committed `mailbus` bin, as `npx mailbus` runs it. */
export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/mailbus.js');

/** A fresh working directory with `mailbus.yaml` in it. */
export function workDir(yaml: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mailbus-operator-'));
  const config = join(dir, 'mailbus.yaml');
  writeFileSync(config, yaml);
  return { dir, config };
}

/** Runs a short `mailbus …` command to its end. */
export function mailbus(
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: o.cwd,
    env: { ...process.env, MAILBUS_REDIS_URL: '', ...o.env },
    input: o.input,
    timeout: o.timeoutMs ?? 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/**
 * Runs a `mailbus …` command to its end, timing it on its own clock too:
 * `ownMs` leaves out the time it waited for a CPU (own-time.ts), so a bound on
 * it holds on a loaded machine and still catches a command that waits too long.
 */
export async function mailbusTimed(
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ status: number | null; stdout: string; stderr: string; ms: number; ownMs: number }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: o.cwd,
    env: { ...process.env, MAILBUS_REDIS_URL: '', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const clock = new OwnClock(child.pid ?? 0);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A hang is killed once it has had timeoutMs of its own time.
  const hang = setInterval(() => {
    if (clock.now() > (o.timeoutMs ?? 30_000)) child.kill('SIGKILL');
  }, 100);
  const status = await new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  clearInterval(hang);
  clock.stop();
  return { status, stdout, stderr, ms: clock.wallMs(), ownMs: clock.now() };
}

/**
 * A long-running `mailbus start` (or any command) in its own process group,
 * as a terminal runs it: `interrupt()` is Ctrl-C (SIGINT to the whole group).
 */
export class MailbusProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for its output are bounded on its own time, not the machine's load (own-time.ts). */
  private readonly clock: OwnClock;
  private constructor(readonly child: ChildProcess) {
    this.clock = new OwnClock(child.pid ?? 0);
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        this.clock.stop();
        r({ code, signal });
      }),
    );
  }

  static spawn(
    args: string[],
    o: { cwd?: string; env?: NodeJS.ProcessEnv; command?: string[] } = {},
  ): MailbusProcess {
    const [cmd, ...pre] = o.command ?? [process.execPath, BIN];
    return new MailbusProcess(
      spawn(cmd as string, [...pre, ...args], {
        cwd: o.cwd,
        env: { ...process.env, MAILBUS_REDIS_URL: '', ...o.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
  }

  async waitForOutput(pattern: RegExp | string, timeoutMs = 30_000): Promise<void> {
    const hit = () =>
      typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output);
    await Promise.race([
      waitFor(hit, {
        timeoutMs,
        clock: this.clock.now,
        what: () =>
          `${String(pattern)} (${this.clock.wallMs()} ms of wall time) in the output:\n${this.output}`,
      }),
      this.exited.then(() => {
        if (!hit()) throw new Error(`exited before ${String(pattern)}; output:\n${this.output}`);
      }),
    ]);
  }

  /** Ctrl-C in a terminal: SIGINT to the process group. */
  interrupt(): void {
    this.signalGroup('SIGINT');
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid) process.kill(-this.child.pid, signal);
  }

  /** Cleanup: SIGTERM to the group, SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.signalGroup('SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        this.signalGroup('SIGKILL');
      } catch {
        // gone
      }
    }, 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}
