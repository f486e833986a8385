import { parseConfig } from '@mailbus/config';
import { Gateway, type Role, createDsnSender } from '@mailbus/cli';
import pino from 'pino';

/** Starts the gateway in this process on a config given as YAML text. */
export async function startGateway(
  yaml: string,
  roles: Role[] = ['ingress', 'bridgehead'],
  /** Receives every error-level log line (JSON), whatever MAILBUS_TEST_LOG says. */
  onError?: (line: string) => void,
  /** The gateway's environment (passwords), of the test's choosing. */
  env: NodeJS.ProcessEnv = {},
): Promise<Gateway> {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.reason}`).join('\n'));
  const gateway = new Gateway({
    config: r.config,
    roles,
    env,
    logger: onError
      ? pino(
          { level: 'error' },
          {
            write: (line: string) => {
              onError(line);
              if (process.env.MAILBUS_TEST_LOG) process.stdout.write(line);
            },
          },
        )
      : pino({ level: process.env.MAILBUS_TEST_LOG ?? 'silent' }),
    sendDsn: createDsnSender(r.config),
    lockDurationMs: 2000,
    stalledIntervalMs: 1000,
  });
  await gateway.start();
  return gateway;
}

/** Strips the Received header mailbus prepends, to compare with what was sent. */
export function withoutOurReceived(raw: Buffer): Buffer {
  const s = raw.toString('latin1');
  const m = /^Received: from [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/.exec(s);
  if (!m || !/\(mailbus\)/.test(m[0])) return raw;
  return raw.subarray(m[0].length);
}
