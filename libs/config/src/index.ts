export { parseConfig, loadConfig } from './load-config.js';
export type { LoadOptions, ConfigResult } from './load-config.js';
export { validateConfig } from './validate-config.js';
export { printEffectiveConfig } from './print-effective-config.js';
export type { JsonValue } from './print-effective-config.js';
export {
  ConfigFileError,
  ConfigValidationError,
  formatConfigError,
  formatPath,
  readConfigFile,
} from './config-error.js';
export type { ConfigErrorCode } from './config-error.js';
export type { ConfigError } from './config-error.js';
export type { Config, Connector, VirtualServer, RoutingGroup } from './effective-config.js';
export { siteRedis, siteConfig } from './site-redis.js';
export {
  configSchema,
  protocolLogFieldNames,
  defaultProtocolLogFields,
  RETRY_DEFAULTS,
} from './schema.js';
export type {
  ConfigInput,
  ParsedConfig,
  ConnectorConfig,
  VirtualServerConfig,
  AddressSpace,
  RecipientPolicy,
  RedisConfig,
  ConnectedRoutingGroup,
  ProtocolLogConfig,
  ProtocolLogField,
  ScheduleSpec,
} from './schema.js';
export { parseSmartHost, parseListen, isFqdn } from './smart-host.js';
export type { SmartHost, SmartHostParse } from './smart-host.js';
export { parseDuration, formatDuration } from './duration.js';
export { REDIS_SERVER_ARGS } from './redis-server-args.js';
export type { AdvancedConfig } from './advanced-schema.js';
export { checkTriggerAccounts, HELO_RULE, TURN_RULE } from './resolve-advanced.js';
