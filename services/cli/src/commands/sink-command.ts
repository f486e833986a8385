import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { parseListen } from '@mailbus/config';
import { UsageError } from '../usage-error.js';

/**
 * `mailbus sink --listen 127.0.0.1:2526 [--dir DIR]`: a development smart host
 * that accepts every message, prints one line per message and optionally
 * saves it as an .eml file. For trying mailbus out; not a mail server.
 */
export async function sinkCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { listen: { type: 'string' }, dir: { type: 'string' } },
    strict: true,
  });
  const l = parseListen(values.listen ?? '127.0.0.1:2526');
  if (!l) throw new UsageError(`--listen must be host:port, not "${values.listen}"`);
  if (values.dir) mkdirSync(values.dir, { recursive: true });
  let n = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    size: 100 * 1024 * 1024,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        n++;
        const raw = Buffer.concat(chunks);
        const subject = /^Subject:[ \t]*(.*)$/im.exec(raw.toString('latin1'))?.[1] ?? '';
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        out(
          `#${n} from <${from}> to ${session.envelope.rcptTo.map((r) => `<${r.address}>`).join(', ')} ${raw.length} bytes "${subject}"`,
        );
        if (values.dir) writeFileSync(join(values.dir, `${Date.now()}-${n}.eml`), raw);
        cb(null, `2.0.0 Ok: sink received #${n}`);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(l.port, l.host, () => resolve());
  });
  out(`sink listening on ${l.host}:${l.port}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await new Promise<void>((r) => server.close(() => r()));
  return 0;
}
