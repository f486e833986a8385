#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { configCommand } from './commands/config-command.js';
import { routeCommand } from './commands/route-command.js';
import { startCommand } from './commands/start-command.js';
import { userCommand } from './commands/user-command.js';
import { sinkCommand } from './commands/sink-command.js';
import { trackCommand } from './commands/track-command.js';
import { operationsCommand, OPERATIONS_USAGE } from './commands/operations-command.js';
import { UsageError, UserError } from './usage-error.js';

const USAGE = `usage: mailbus <command> [options]

  start [--config FILE] [--role ingress,bridgehead,admin] [--virtual-server NAME]
        [--data-dir DIR] [--http-listen HOST:PORT] [--log-format json|human]
  config check [--config FILE] [--print]
  route --config FILE --from ADDR --to ADDR [--to ADDR…] [--size-kb N]
        [--priority high|normal|low] [--system] [--virtual-server NAME] [--redis URL] [--json]
  user add --file FILE --user NAME [--password-env VAR]   (password on stdin)
  track <queue-id|Message-ID|sender|recipient> [--config FILE] [--redis URL] [--json]
${OPERATIONS_USAGE}
  sink [--listen 127.0.0.1:2526] [--dir DIR]              (a development smart host)

The config file defaults to $MAILBUS_CONFIG, then ./mailbus.yaml.`;

/** The version of the package this command was built from. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'start':
        // The banner and the stop lines on stderr: stdout carries only log lines, in one format.
        return await startCommand(rest, process.env, err);
      case 'config':
        return configCommand(rest, process.env, out, err);
      case 'route':
        return await routeCommand(rest, process.env, out);
      case 'user':
        return await userCommand(rest, process.env, out);
      case 'connector':
      case 'queue':
        return await operationsCommand(cmd, rest, process.env, out);
      case 'track':
        return await trackCommand(rest, process.env, out);
      case 'sink':
        return await sinkCommand(rest, out);
      case '--version':
      case '-v':
        out(`mailbus ${version()}`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`mailbus: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof UserError) {
      err(e.message);
      return 1;
    }
    // An operator error from a library (MAILBUS_ERR_…, docs/errors.md): its message says it all.
    if (/^MAILBUS_ERR_/.test(String((e as { code?: unknown }).code))) {
      err((e as Error).message);
      return 1;
    }
    const code = (e as { code?: string }).code;
    if (
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ) {
      err(`mailbus: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    err(`mailbus: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((status) => {
  // A failed command exits now: a Redis client that never connected may still
  // hold a reconnect timer (stdout and stderr are synchronous on pipes and files).
  if (status !== 0) process.exit(status);
  process.exitCode = status;
});
