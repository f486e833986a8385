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

/**
 * The config as a node of one site sees it: `redis` is its virtual server's
 * site bus (siteRedis). Everything that opens Redis reads `config.redis`, so
 * a node started with `--virtual-server` runs on its own site's bus.
 */
export function siteConfig(config: Config, virtualServer: string | undefined): Config {
  const redis = siteRedis(config, virtualServer);
  return redis === config.redis ? config : Object.freeze({ ...config, redis });
}
