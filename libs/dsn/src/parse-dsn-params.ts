import { replies } from '@mailbus/smtp';
import type { SmtpReply } from '@mailbus/smtp';
import type { DsnRet } from './dsn-input.js';
import type { NotifyKeyword } from './should-notify.js';
import { decodeXtext } from './xtext.js';

/** ESMTP parameters as smtp-server hands them over: names (any case) to values, `true` for a bare keyword. */
export type EsmtpArgs = Readonly<Record<string, string | boolean | undefined>>;

export interface MailDsnParams {
  readonly ret?: DsnRet;
  /** ENVID, xtext-decoded. */
  readonly envelopeId?: string;
}

export interface RcptDsnParams {
  readonly notify?: readonly NotifyKeyword[];
  /** ORCPT, xtext-decoded: `{ type: 'rfc822', address: 'user@example.com' }`. */
  readonly originalRecipient?: { readonly type: string; readonly address: string };
}

export type DsnParamsParse<T> = { ok: true; value: T } | { ok: false; reply: SmtpReply };

const MAX_ENVID = 100;
const MAX_ORCPT = 500;

function param(args: EsmtpArgs, name: string): string | boolean | undefined {
  for (const [k, v] of Object.entries(args)) if (k.toUpperCase() === name) return v;
  return undefined;
}

function bad(text: string): { ok: false; reply: SmtpReply } {
  return { ok: false, reply: replies.syntaxError(text) };
}

/** RFC 3461 MAIL FROM parameters `RET=FULL|HDRS` and `ENVID=<xtext>`. Errors are 501 5.5.4. */
export function parseMailDsnParams(args: EsmtpArgs): DsnParamsParse<MailDsnParams> {
  const value: { ret?: DsnRet; envelopeId?: string } = {};
  const ret = param(args, 'RET');
  if (ret !== undefined) {
    const r = typeof ret === 'string' ? ret.toUpperCase() : '';
    if (r !== 'FULL' && r !== 'HDRS') return bad('RET must be FULL or HDRS');
    value.ret = r;
  }
  const envid = param(args, 'ENVID');
  if (envid !== undefined) {
    if (typeof envid !== 'string' || envid.length === 0 || envid.length > MAX_ENVID) {
      return bad(`ENVID must be 1 to ${MAX_ENVID} characters of xtext`);
    }
    const decoded = decodeXtext(envid);
    if (decoded === undefined) return bad('ENVID is not valid xtext (RFC 3461)');
    value.envelopeId = decoded;
  }
  return { ok: true, value };
}

/** RFC 3461 RCPT TO parameters `NOTIFY=NEVER|SUCCESS,FAILURE,DELAY` and `ORCPT=<type>;<xtext>`. Errors are 501 5.5.4. */
export function parseRcptDsnParams(args: EsmtpArgs): DsnParamsParse<RcptDsnParams> {
  const value: { notify?: NotifyKeyword[]; originalRecipient?: { type: string; address: string } } =
    {};
  const notify = param(args, 'NOTIFY');
  if (notify !== undefined) {
    if (typeof notify !== 'string')
      return bad('NOTIFY needs a value: NEVER, or SUCCESS, FAILURE and DELAY separated by commas');
    const words = notify.toUpperCase().split(',');
    const keywords: NotifyKeyword[] = [];
    for (const w of words) {
      if (w !== 'NEVER' && w !== 'SUCCESS' && w !== 'FAILURE' && w !== 'DELAY') {
        return bad(`NOTIFY keyword "${w}" is not NEVER, SUCCESS, FAILURE or DELAY`);
      }
      if (!keywords.includes(w)) keywords.push(w);
    }
    if (keywords.includes('NEVER') && keywords.length > 1)
      return bad('NOTIFY=NEVER cannot be combined with other keywords');
    value.notify = keywords;
  }
  const orcpt = param(args, 'ORCPT');
  if (orcpt !== undefined) {
    if (typeof orcpt !== 'string' || orcpt.length > MAX_ORCPT)
      return bad(`ORCPT must be <type>;<xtext>, at most ${MAX_ORCPT} characters`);
    const semi = orcpt.indexOf(';');
    const type = orcpt.slice(0, semi).trim();
    if (semi <= 0 || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(type))
      return bad('ORCPT must be <type>;<xtext>, e.g. rfc822;user@example.com');
    const address = decodeXtext(orcpt.slice(semi + 1));
    if (address === undefined || address.length === 0)
      return bad('ORCPT address is not valid xtext (RFC 3461)');
    value.originalRecipient = { type: type.toLowerCase(), address };
  }
  return { ok: true, value };
}
