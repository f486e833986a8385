#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { COMMAND_HELP, USAGE, parseArgsMessage, wantsHelp } from './command-help.js';
import { UsageError, UserError } from './usage-error.js';

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
  const help = cmd === undefined ? undefined : COMMAND_HELP[cmd];
  // A usage mistake: one line naming it, and where the usage is (not the usage itself).
  const usageError = (what: string): number => {
    err(
      help
        ? `mailbus ${cmd}: ${what} (see \`mailbus ${cmd} --help\`)`
        : `mailbus: ${what} (see \`mailbus --help\`)`,
    );
    return 2;
  };
  if (help && wantsHelp(rest)) {
    out(help);
    return 0;
  }
  // Each command's module is loaded only when that command runs: `--help`, `--version` and a
  // mistyped command answer without loading Redis, SMTP and telemetry clients (hundreds of
  // modules, about a second of CPU).
  try {
    switch (cmd) {
      case 'start':
        // The banner and the stop lines on stderr: stdout carries only log lines, in one format.
        return await (
          await import('./commands/start-command.js')
        ).startCommand(rest, process.env, err);
      case 'config':
        return (await import('./commands/config-command.js')).configCommand(
          rest,
          process.env,
          out,
          err,
        );
      case 'route':
        return await (
          await import('./commands/route-command.js')
        ).routeCommand(rest, process.env, out);
      case 'user':
        return await (
          await import('./commands/user-command.js')
        ).userCommand(rest, process.env, out);
      case 'connector':
      case 'queue':
        return await (
          await import('./commands/operations-command.js')
        ).operationsCommand(cmd, rest, process.env, out);
      case 'track':
        return await (
          await import('./commands/track-command.js')
        ).trackCommand(rest, process.env, out);
      case 'sink':
        return await (await import('./commands/sink-command.js')).sinkCommand(rest, out);
      case '--version':
      case '-v':
        out(`mailbus ${version()}`);
        return 0;
      case 'help':
      case '--help':
      case '-h': {
        const topic = rest[0] === undefined ? undefined : COMMAND_HELP[rest[0]];
        if (rest[0] !== undefined && !topic) return usageError(`no command "${rest[0]}"`);
        out(topic ?? USAGE);
        return 0;
      }
      case undefined:
        err(USAGE);
        return 2;
      default:
        return usageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message);
    if (e instanceof UserError) {
      err(e.message);
      return 1;
    }
    // An operator error from a library (MAILBUS_ERR_…, docs/errors.md): its message says it all.
    if (/^MAILBUS_ERR_/.test(String((e as { code?: unknown }).code))) {
      err((e as Error).message);
      return 1;
    }
    const short = parseArgsMessage(e as Error & { code?: string });
    if (short) return usageError(short);
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
