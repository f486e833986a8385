import type { Config, RecipientPolicy } from '@mailbus/config';
import { parseSmartHost } from '@mailbus/config';
import { RecipientVerificationCache } from '@mailbus/queue';
import type { MailQueue } from '@mailbus/queue';
import { replies, SmtpRejection } from '@mailbus/smtp';
import type { Logger } from 'pino';
import { callout, type CalloutResult } from './recipient-callout.js';
import { RecipientList } from './recipient-list.js';

/**
 * Checks a recipient of an inbound domain at RCPT, per its recipient policy,
 * so that unknown recipients are refused in the session and never bounced
 * later to a sender who may be forged (backscatter):
 * - `verify`: an SMTP callout to the mailbox hosts, results cached in Redis
 *   for every node; unknown ⇒ `550 5.1.1`, the mailbox host unreachable or
 *   answering 4xx ⇒ `450 4.1.1` (never a 5xx for what may be a passing fault);
 * - `list`: the policy's valid recipients file; unknown ⇒ `550 5.1.1`;
 * - `none`: every local part is accepted.
 */
export class RecipientValidator {
  private readonly lists = new Map<string, RecipientList>();
  private readonly cache: RecipientVerificationCache;

  constructor(
    private readonly config: Config,
    queue: MailQueue,
    private readonly o: { heloName: string; defaultPort: number; logger: Logger },
  ) {
    this.cache = new RecipientVerificationCache(queue.redis, queue.keys);
    config.recipientPolicies.forEach((p, i) => {
      if (p.recipientValidation === 'list' && p.validRecipientsFile)
        this.lists.set(
          p.domain,
          RecipientList.fromFile(
            p.validRecipientsFile,
            `recipientPolicies[${i}].validRecipientsFile`,
          ),
        );
    });
  }

  /** Throws the rejection the client must get, or returns when the recipient may be accepted. */
  async check(recipient: string): Promise<void> {
    const at = recipient.lastIndexOf('@');
    const domain = recipient.slice(at + 1).toLowerCase();
    const policy = this.config.recipientPolicies.find((p) => p.domain === domain);
    if (!policy || policy.recipientValidation === 'none') return;
    if (policy.recipientValidation === 'list') {
      if (this.lists.get(policy.domain)?.has(recipient)) return;
      throw new SmtpRejection(replies.unknownRecipient(recipient, 'valid recipients list'));
    }
    const cached = await this.cache.get(recipient);
    if (cached === 'valid') return;
    if (cached === 'invalid')
      throw new SmtpRejection(replies.unknownRecipient(recipient, 'mailbox host (cached)'));
    const r = await this.verify(policy, recipient);
    if (r.kind === 'valid') {
      await this.cache.set(recipient, 'valid', policy.verify.positiveTtl);
      return;
    }
    if (r.kind === 'invalid') {
      await this.cache.set(recipient, 'invalid', policy.verify.negativeTtl);
      throw new SmtpRejection(replies.unknownRecipient(recipient, 'mailbox host'));
    }
    this.o.logger.warn({ recipient, why: r.why }, 'recipient callout failed: 450 4.1.1');
    throw new SmtpRejection(replies.recipientNotVerified(recipient, 'mailbox host unavailable'));
  }

  private verify(policy: RecipientPolicy, recipient: string): Promise<CalloutResult> {
    const hosts = policy.mailboxHosts.flatMap((h) => {
      const p = parseSmartHost(h);
      return p.ok ? [{ host: p.value.host, port: p.value.port ?? this.o.defaultPort }] : [];
    });
    return callout({
      hosts,
      heloName: this.o.heloName,
      recipient,
      timeoutMs: policy.verify.timeout,
    });
  }
}
