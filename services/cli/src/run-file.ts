import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What `mailbus start` writes to `<data dir>/run.json` while its embedded Redis runs. */
export interface RunFile {
  /** The mailbus process. */
  pid: number;
  /** Its redis-server child. */
  redisPid: number;
  url: string;
  /** The config file that `mailbus start` runs (absolute): the other commands' default. */
  config?: string;
}

const NAME = 'run.json';

/** The data directory of the embedded Redis: --data-dir, else $MAILBUS_DATA_DIR, else ./.mailbus. */
export function dataDirOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(flag || env.MAILBUS_DATA_DIR || '.mailbus');
}

export function writeRunFile(dir: string, run: RunFile): void {
  writeFileSync(join(dir, NAME), `${JSON.stringify(run)}\n`, { mode: 0o600 });
}

export function readRunFile(dir: string): RunFile | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, NAME), 'utf8')) as Partial<RunFile>;
    if (typeof r.pid === 'number' && typeof r.redisPid === 'number' && typeof r.url === 'string')
      return {
        pid: r.pid,
        redisPid: r.redisPid,
        url: r.url,
        ...(typeof r.config === 'string' ? { config: r.config } : {}),
      };
  } catch {
    // absent or unreadable: no run file
  }
  return undefined;
}

export function removeRunFile(dir: string): void {
  rmSync(join(dir, NAME), { force: true });
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** The URL of the embedded Redis a running `mailbus start` on this data directory serves, if any. */
export function runningEmbeddedRedis(dir: string): string | undefined {
  const run = readRunFile(dir);
  return run && isAlive(run.pid) && isAlive(run.redisPid) ? run.url : undefined;
}
