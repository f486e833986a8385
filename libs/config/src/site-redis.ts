import type { Config } from './effective-config.js';
import type { RedisConfig } from './schema.js';

/**
 * The bus of the site a virtual server belongs to: its routing group's own
 * `redis`, else the top-level one. Without a virtual server (or an unknown
 * one), the top-level one.
 */
export function siteRedis(config: Config, virtualServer: string | undefined): RedisConfig {
  if (virtualServer === undefined) return config.redis;
  const name = virtualServer.toLowerCase();
  const vs = config.virtualServers.find((v) => v.name.toLowerCase() === name);
  const group = config.routingGroups.find((g) => g.name === vs?.routingGroup);
  return group?.redis ?? config.redis;
}
