import { isIP } from 'node:net';

/**
 * Why an IP/CIDR entry (`192.0.2.1`, `10.0.0.0/8`, `2001:db8::/32`) cannot be
 * used, or undefined when it is fine.
 */
export function ipEntryError(entry: string): string | undefined {
  const [addr = '', prefix, ...rest] = entry.trim().split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return `"${entry}" is not an IP address or CIDR range`;
  if (prefix === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
    return `"${entry}": prefix length must be 0-${max} for an IPv${family} range`;
  }
  return undefined;
}
