/** `mailbus <command> --help`: each command's usage, printed to stdout with exit status 0. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  start: `usage: mailbus start [--config FILE] [--role ingress,bridgehead,admin] [--virtual-server NAME]
                     [--data-dir DIR] [--http-listen HOST:PORT] [--log-format json|human]

Runs the gateway. Without a configured Redis, starts an embedded redis-server whose
data lives in --data-dir (default $MAILBUS_DATA_DIR, else ./.mailbus).`,
  config: `usage: mailbus config check [--config FILE] [--print]

Validates the config: exit 0, or 1 with every error at once, in file order,
one \`<path>: <reason> [CODE]\` line each. --print writes the effective config as JSON.`,
  route: `usage: mailbus route --from ADDR --to ADDR [--to ADDR…] [--config FILE] [--size-kb N]
                     [--priority high|normal|low] [--system] [--virtual-server NAME]
                     [--redis [URL]] [--json]

The routing decision for an envelope; nothing is sent. --redis takes link state
from Redis (bare: the gateway's own Redis).`,
  user: `usage: mailbus user add --file FILE --user NAME [--password-env VAR] [--cram-md5]

Adds or replaces a user in a users file (scrypt hash); the password is read from
standard input unless --password-env names a variable holding it. --cram-md5 also
stores a CRAM-MD5 secret (for fetchmail's ODMR).`,
  track: `usage: mailbus track <queue-id|Message-ID|sender|recipient> [--config FILE] [--redis URL] [--json]

Every tracking event of the messages the term names, across all nodes, oldest first.`,
  connector: `usage: mailbus connector <subcommand> [--config FILE] [--redis URL] [--data-dir DIR]

  connector status [NAME] [--json] [--virtual-server NAME]
                                                link state, frozen, queue depth, oldest message;
                                                with sites, every connector of the organisation by
                                                routing group (--virtual-server picks the site)
  connector freeze|unfreeze NAME                stop / resume delivery (mail keeps queueing)
  connector retry NAME                          deliver now: skip schedules and backoff, reset link state`,
  queue: `usage: mailbus queue <subcommand> [--config FILE] [--redis URL] [--data-dir DIR]

  queue list [CONNECTOR] [--state S] [--limit N] [--offset N] [--json]
                                                every connector's messages (like mailq), or one's
  queue delete CONNECTOR ID [--dsn]             remove a message, with or without a DSN to the sender
  queue move CONNECTOR ID --to CONNECTOR        move one message
  queue move-all CONNECTOR --to CONNECTOR       move a whole queue

ID is the queue id of the ingress's 250 reply ("queued as …") or a job id from
\`queue list\`.`,
  sink: `usage: mailbus sink [--listen 127.0.0.1:2526] [--dir DIR]

A development smart host: accepts every message, prints one line each, and
saves it as an .eml file in --dir when given.`,
};

/** Lines of `mailbus --help`. */
export const USAGE = `usage: mailbus <command> [options]

  start [--config FILE] [--role ingress,bridgehead,admin] [--virtual-server NAME]
        [--data-dir DIR] [--http-listen HOST:PORT] [--log-format json|human]
  config check [--config FILE] [--print]
  route --from ADDR --to ADDR [--to ADDR…] [--config FILE] [--size-kb N]
        [--priority high|normal|low] [--system] [--virtual-server NAME] [--redis URL] [--json]
  user add --file FILE --user NAME [--password-env VAR] [--cram-md5]   (password on stdin)
  track <queue-id|Message-ID|sender|recipient> [--config FILE] [--redis URL] [--json]
  connector status [NAME] | freeze NAME | unfreeze NAME | retry NAME
  queue list [CONNECTOR] | delete CONNECTOR ID | move CONNECTOR ID --to C | move-all CONNECTOR --to C
  sink [--listen 127.0.0.1:2526] [--dir DIR]              (a development smart host)
  --version

\`mailbus <command> --help\` describes one command. The config file defaults to
$MAILBUS_CONFIG, then ./mailbus.yaml, then the config of the \`mailbus start\`
running on the data directory (.mailbus/run.json).`;

/** Whether the arguments ask for help (`--help` or `-h` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** node:util parseArgs errors as one short line: `unknown option --bogus`. */
export function parseArgsMessage(e: Error & { code?: string }): string | undefined {
  const m = e.message;
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${/'([^']+)'/.exec(m)?.[1] ?? m}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const opt = /'(-[^' ]+)/.exec(m)?.[1];
      if (/argument missing/.test(m)) return `${opt ?? 'an option'} needs a value`;
      if (/does not take an argument/.test(m)) return `${opt ?? 'an option'} takes no value`;
      // Node's text is several lines; a usage error is one.
      if (/argument is ambiguous/.test(m))
        return `${opt ?? 'an option'}: a value that starts with "-" is written ${opt ?? '--option'}=VALUE`;
      return (m.split('\n')[0] ?? m).split('. ')[0];
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(m)?.[1] ?? m}`;
    default:
      return undefined;
  }
}
