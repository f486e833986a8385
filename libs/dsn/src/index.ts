export { buildDsn } from './build-dsn.js';
export type { BuiltDsn } from './build-dsn.js';
export { DSN_MAX_RETURNED_BYTES } from './dsn-input.js';
export type { DsnAction, DsnInput, DsnRecipient, DsnRet } from './dsn-input.js';
export { shouldNotify } from './should-notify.js';
export type { NotifyKeyword } from './should-notify.js';
export { isNullSender } from './is-null-sender.js';
export { dsnAllowed } from './dsn-allowed.js';
export { returnedPart } from './returned-part.js';
export { statusText } from './status-text.js';
export { parseMailDsnParams, parseRcptDsnParams } from './parse-dsn-params.js';
export type {
  DsnParamsParse,
  EsmtpArgs,
  MailDsnParams,
  RcptDsnParams,
} from './parse-dsn-params.js';
export { decodeXtext, encodeXtext, orcptAddress } from './xtext.js';
export { formatRfc5322Date } from './format-rfc5322-date.js';
