import type { Logger } from 'pino';
import type { Metrics } from '@mailbus/telemetry';
import type { AnsweredCommand, LoggedSession, SentReply } from './inbound-protocol-log.js';

/**
 * What the ingress does with every reply it sends: counts it (`mailbus_smtp_replies_total`, and
 * each 4xx/5xx in `mailbus_messages_rejected_total`, by code and enhanced code; the labelled
 * counters kept per reply kind, one map lookup per reply), and logs each refusal on the `smtp`
 * category with what Postfix's `NOQUEUE: reject:` line carries: client, HELO, sender,
 * recipient, the command and the reply.
 */
export function observeReplies(
  metrics: Metrics | undefined,
  logger: Logger,
  virtualServer: string,
): (reply: SentReply, command: AnsweredCommand | undefined, s: LoggedSession | undefined) => void {
  const kinds = new Map<string, () => void>();
  const smtp = logger.child({ category: 'smtp' });
  return (reply, command, s) => {
    if (metrics) {
      const key = `${reply.code} ${reply.enhanced}`;
      let count = kinds.get(key);
      if (!count) {
        const labels = { code: String(reply.code), enhanced: reply.enhanced };
        const all = metrics.smtpReplies.labels({ ...labels, virtual_server: virtualServer });
        const rejected = reply.code >= 400 ? metrics.messagesRejected.labels(labels) : undefined;
        count = () => {
          all.inc();
          rejected?.inc();
        };
        kinds.set(key, count);
      }
      count();
    }
    if (reply.code < 400) return;
    const recipient =
      command?.method === 'RCPT' ? /^TO:\s*<([^>]*)>/i.exec(command.args)?.[1] : undefined;
    smtp.info(
      {
        virtual_server: virtualServer,
        client_ip: s?.clientIp,
        helo: s?.helo || undefined,
        sender:
          command?.method === 'MAIL' ? /^FROM:\s*<([^>]*)>/i.exec(command.args)?.[1] : s?.logSender,
        recipient,
        command: command?.method,
        dsn: reply.enhanced || undefined,
        status: 'rejected',
        reply: reply.text,
      },
      'rejected',
    );
  };
}
