import { userInfo } from 'node:os';
import pino from 'pino';
import { createLogger } from '@mailbus/telemetry';
import { logFormat } from './commands/start-command.js';

/** Who runs this command: the OS user (`os.userInfo().username`), for the audit line. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/**
 * The audit line of a CLI action that changes a queue, on stderr: the admin
 * API's line (`category: queue`, `action`, `user`, the connector and job,
 * message `admin <action>`), with `user` the OS user and `via: cli`.
 */
export function cliAudit(): (action: string, fields: Record<string, unknown>) => void {
  const logger = createLogger({
    name: 'mailbus',
    level: 'info',
    destination: pino.destination({ fd: 2, sync: true }),
    format: logFormat(undefined, process.stderr.isTTY === true),
  });
  const user = osUser();
  return (action, fields) =>
    logger.info({ category: 'queue', action, user, via: 'cli', ...fields }, `admin ${action}`);
}
