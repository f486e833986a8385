import { existsSync, readFileSync } from 'node:fs';
import { formatConfigError, parseConfig, type Config, type LoadOptions } from '@mailbus/config';
// The users file's reader alone: `config check` and `route` do not load the SMTP server.
import { UserDirectory } from '@mailbus/ingress/user-directory';
import { UsageError, UserError } from './usage-error.js';
import { dataDirOf, isAlive, readRunFile } from './run-file.js';

/** What parseConfig needs from the files beside the config: the users files' names. */
export function loadOptions(env: NodeJS.ProcessEnv): LoadOptions {
  return {
    env,
    userNames: (file) => {
      try {
        return UserDirectory.fromFile(file).names();
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The config file to use: --config, else $MAILBUS_CONFIG, else ./mailbus.yaml,
 * else (no such file) the config of the `mailbus start` running on the data
 * directory (its run file).
 */
export function configPath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  dataDirFlag?: string,
): string {
  const given = flag ?? env.MAILBUS_CONFIG;
  if (given) return given;
  if (existsSync('mailbus.yaml')) return 'mailbus.yaml';
  const run = readRunFile(dataDirOf(dataDirFlag, env));
  return run?.config && isAlive(run.pid) ? run.config : 'mailbus.yaml';
}

/** A usage error naming the known virtual servers, unless `name` is one (any case). */
export function knownVirtualServer(config: Config, name: string): void {
  const all = config.virtualServers.map((v) => v.name);
  if (!all.some((n) => n.toLowerCase() === name.toLowerCase()))
    throw new UsageError(
      `--virtual-server: no virtual server "${name}" in the config (known: ${all.join(', ')})`,
    );
}

export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UserError(`${path}: cannot read the config file (${code ?? String(e)})`);
  }
}

/** Reads and validates the config; a UserError lists every `<path>: <reason>`. */
export function readConfig(path: string, env: NodeJS.ProcessEnv): Config {
  const r = parseConfig(readConfigText(path), loadOptions(env));
  if (!r.ok) throw new UserError(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}
