import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@mailbus/testing';

const ROOT = process.env.MAILBUS_REPO_ROOT ?? resolve(import.meta.dirname, '../../..');
/** The built `mailbus` command. */
export const MAILBUS = join(ROOT, 'services/cli/dist/src/main.js');

const run = promisify(execFile);

/** A `mailbus start` child process and everything it printed. */
export interface MailbusProcess {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** `mailbus start --config FILE [ARGS]` as a real process; resolves once it says it runs. */
export async function startMailbus(
  configFile: string,
  env: Record<string, string> = {},
  /** More arguments of `mailbus start` (say, --role bridgehead). */
  args: string[] = [],
): Promise<MailbusProcess> {
  const child = spawn(process.execPath, [MAILBUS, 'start', '--config', configFile, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => output.includes('mailbus running') || child.exitCode !== null, {
    timeoutMs: 30_000,
    what: 'mailbus start to say it runs',
  });
  if (child.exitCode !== null) throw new Error(`mailbus exited ${child.exitCode}: ${output}`);
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `mailbus ARGS --config FILE`; resolves with its exit code and output, never rejects. */
export async function mailbus(
  configFile: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAILBUS, ...args, '--config', configFile], {
      timeout: 20_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `mailbus ARGS --json`, parsed; throws with its stderr when it fails. */
export async function mailbusJson<T>(configFile: string, ...args: string[]): Promise<T> {
  const r = await mailbus(configFile, ...args, '--json');
  if (r.code !== 0) throw new Error(`mailbus ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
