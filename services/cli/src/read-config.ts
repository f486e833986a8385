import { readFileSync } from 'node:fs';
import { formatConfigError, parseConfig, type Config, type LoadOptions } from '@mailbus/config';
import { UserDirectory } from '@mailbus/ingress';
import { UserError } from './usage-error.js';

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

/** The config file to use: --config, else $MAILBUS_CONFIG, else ./mailbus.yaml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.MAILBUS_CONFIG ?? 'mailbus.yaml';
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
