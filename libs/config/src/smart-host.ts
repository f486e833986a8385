import { isIP } from 'node:net';

/** A smart host as written in config: `[192.0.2.1]`, `[2001:db8::1]:587`, `relay.example.com:2525`. */
export interface SmartHost {
  /** Host name or IP address, without brackets. */
  host: string;
  /** True when written as an IP literal in brackets. */
  literal: boolean;
  /** Port when given; otherwise the connector's outbound port applies. */
  port?: number;
}

export type SmartHostParse = { ok: true; value: SmartHost } | { ok: false; reason: string };

const FQDN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;

/** True for a fully qualified domain name (at least two labels, letters in the last). */
export function isFqdn(name: string): boolean {
  return FQDN.test(name);
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * Parses one smart host. An IP address must be in brackets (Exchange: "[192.0.2.1]"),
 * a name must be a FQDN; either may carry `:port`.
 */
export function parseSmartHost(text: string): SmartHostParse {
  const s = text.trim();
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return { ok: false, reason: `"${s}" has "[" without a closing "]"` };
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (!isIP(host)) return { ok: false, reason: `"${host}" in brackets is not an IP address` };
    if (rest === '') return { ok: true, value: { host, literal: true } };
    if (!rest.startsWith(':')) return { ok: false, reason: `unexpected "${rest}" after "]"` };
    const port = parsePort(rest.slice(1));
    if (port === undefined) return { ok: false, reason: `port "${rest.slice(1)}" is not 1-65535` };
    return { ok: true, value: { host, literal: true, port } };
  }
  if (isIP(s)) {
    return {
      ok: false,
      reason: `an IP address must be written in brackets: "[${s}]" (a bare IP is taken as a host name)`,
    };
  }
  const colon = s.lastIndexOf(':');
  const name = colon >= 0 ? s.slice(0, colon) : s;
  let port: number | undefined;
  if (colon >= 0) {
    port = parsePort(s.slice(colon + 1));
    if (port === undefined)
      return { ok: false, reason: `port "${s.slice(colon + 1)}" is not 1-65535` };
  }
  if (isIP(name)) {
    return {
      ok: false,
      reason: `an IP address must be written in brackets: "[${name}]${colon >= 0 ? s.slice(colon) : ''}"`,
    };
  }
  if (!isFqdn(name)) {
    return {
      ok: false,
      reason: `"${name}" is not a fully qualified domain name (e.g. relay.example.com)`,
    };
  }
  return {
    ok: true,
    value:
      port === undefined
        ? { host: name.toLowerCase().replace(/\.$/, ''), literal: false }
        : { host: name.toLowerCase().replace(/\.$/, ''), literal: false, port },
  };
}

/** Parses `host:port`, `[v6]:port` or `:port` listen addresses. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}
