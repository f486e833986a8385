export { Gateway, ALL_ROLES } from './gateway.js';
export type { GatewayOptions, Role } from './gateway.js';
export { EmbeddedRedis } from './embedded-redis.js';
export { createDsnSender } from './dsn-sender.js';
