import { parseArgs } from 'node:util';
import { formatConfigError, parseConfig, printEffectiveConfig } from '@mailbus/config';
import { configPath, loadOptions, readConfigText } from '../read-config.js';
import { UsageError } from '../usage-error.js';
import { plural } from '../plural.js';

/** `mailbus config check [--config FILE] [--print]` */
export function configCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
  err: (s: string) => void,
): number {
  const [sub, ...rest] = argv;
  if (sub !== 'check')
    throw new UsageError(
      sub === undefined
        ? 'a subcommand is required (check)'
        : `unknown subcommand "${sub}" (config subcommands: check)`,
    );
  const { values } = parseArgs({
    args: rest,
    options: { config: { type: 'string' }, print: { type: 'boolean' } },
    strict: true,
  });
  const path = configPath(values.config, env);
  const r = parseConfig(readConfigText(path), loadOptions(env));
  if (!r.ok) {
    for (const e of r.errors) err(formatConfigError(e));
    return 1;
  }
  for (const w of r.warnings) err(`warning: ${formatConfigError(w)}`);
  if (values.print) out(JSON.stringify(printEffectiveConfig(r.config), null, 2));
  else
    out(
      `${path}: OK (${plural(r.config.virtualServers.length, 'virtual server')}, ${plural(r.config.connectors.length, 'connector')})`,
    );
  return 0;
}
