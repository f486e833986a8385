import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cramMd5Secret, hashPassword } from '@mailbus/ingress';
import { UsageError, UserError } from '../usage-error.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `mailbus user add --file users.passwd --user NAME [--password-env VAR] [--cram-md5]`;
 * password from stdin by default. `--cram-md5` also stores the CRAM-MD5 secret
 * (fetchmail's ODMR client authenticates only with CRAM-MD5).
 */
export async function userCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'add')
    throw new UsageError(
      `mailbus user: unknown subcommand "${sub ?? ''}" (use: user add --file FILE --user NAME)`,
    );
  const { values } = parseArgs({
    args: rest,
    options: {
      file: { type: 'string' },
      user: { type: 'string' },
      'password-env': { type: 'string' },
      'cram-md5': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.file || !values.user)
    throw new UsageError('mailbus user add: --file FILE and --user NAME are required');
  if (!/^[^\s:]+$/.test(values.user))
    throw new UserError(`user name "${values.user}" may not contain spaces or ":"`);
  const password = values['password-env'] ? env[values['password-env']] : await readStdin();
  if (!password)
    throw new UserError('empty password (give it on standard input, or with --password-env VAR)');
  const cram = values['cram-md5'] ? `:${cramMd5Secret(password)}` : '';
  const line = `${values.user}:${await hashPassword(password)}${cram}`;
  if (existsSync(values.file)) {
    const lines = readFileSync(values.file, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l !== '' && !l.startsWith(`${values.user}:`));
    writeFileSync(values.file, `${[...lines, line].join('\n')}\n`, { mode: 0o600 });
  } else {
    appendFileSync(values.file, `${line}\n`, { mode: 0o600 });
  }
  out(`user ${values.user} written to ${values.file}`);
  return 0;
}
