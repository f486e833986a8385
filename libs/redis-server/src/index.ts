export {
  probeRedis,
  RedisServerProcess,
  RedisServerStartError,
  startRedisServer,
} from './start-redis-server.js';
export type { RedisProbe, StartRedisServerOptions } from './start-redis-server.js';
