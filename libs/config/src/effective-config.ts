import type { ConnectorConfig, ParsedConfig, RedisConfig, VirtualServerConfig } from './schema.js';
import type { SmartHost } from './smart-host.js';

/** A virtual server with its routing group resolved. */
export interface VirtualServer extends VirtualServerConfig {
  routingGroup: string;
}

/**
 * A connector with every inherited value filled in from its first bridgehead
 * virtual server: size limit, outbound port, DNS servers and smart host.
 */
export interface Connector extends Omit<
  ConnectorConfig,
  'port' | 'dnsServers' | 'contentRestrictions'
> {
  /** Position in the config file: ties in cost are broken by it. */
  index: number;
  port: number;
  dnsServers: string[];
  /** Parsed smart hosts (empty when `dns: true`). */
  hosts: SmartHost[];
  contentRestrictions: ConnectorConfig['contentRestrictions'] & { maxSizeKB: number };
  /** Routing groups of its bridgehead virtual servers. */
  routingGroups: string[];
  /** Where each inherited value came from, for `config check --print` and `route --json`. */
  inherited: Array<'maxSizeKB' | 'port' | 'dnsServers' | 'smartHosts'>;
}

/** A routing group (site): the nodes that share one bus. */
export interface RoutingGroup {
  name: string;
  /** Its own Redis; undefined = the top-level `redis`. */
  redis?: RedisConfig;
}

/** The validated, frozen configuration every service runs on. */
export interface Config extends Omit<
  ParsedConfig,
  'virtualServers' | 'connectors' | 'routingGroups'
> {
  /** Both config forms (`[first]` and `[{ name, redis }]`) normalised to objects. */
  routingGroups: RoutingGroup[];
  virtualServers: VirtualServer[];
  connectors: Connector[];
}
