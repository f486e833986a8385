export { Gateway, ALL_ROLES } from './gateway.js';
export type { GatewayOptions, Role } from './gateway.js';
export { EmbeddedRedis } from './embedded-redis.js';
export { createDsnSender } from './dsn-sender.js';
export { trackCommand, formatTrackingEvent } from './commands/track-command.js';
export type { TrackedMessage } from './commands/track-command.js';
export { startSdkIfConfigured } from './telemetry-sdk.js';
export type { StartedSdk } from './telemetry-sdk.js';
