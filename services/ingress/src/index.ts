export { SmtpIngress } from './smtp-ingress.js';
export type { SmtpIngressDeps } from './smtp-ingress.js';
export { UserDirectory, hashPassword, verifyPassword } from './user-directory.js';
export { cramMd5Secret } from './cram-md5.js';
export { MailbusSmtpServer } from './mailbus-smtp-server.js';
export type { MailbusSessionOptions } from './mailbus-smtp-connection.js';
export { readHeaders, hasBareLineEnding } from './message-facts.js';
export { IngressNode, IngressStartError, createIngressNode } from './create-ingress-node.js';
export type { IngressNodeDeps } from './create-ingress-node.js';
