export { SmtpIngress } from './smtp-ingress.js';
export type { SmtpIngressDeps } from './smtp-ingress.js';
export { UserDirectory, hashPassword, verifyPassword } from './user-directory.js';
export { installEnhancedStatusCodes } from './enhanced-status-codes.js';
export { readHeaders, hasBareLineEnding } from './message-facts.js';
