/** A recipient address split for routing and relay decisions. */
export interface ParsedRecipient {
  /** Local part as written (quotes kept). */
  local: string;
  /** Domain, lower-cased, without a trailing dot; "" when the address has none. */
  domain: string;
  /**
   * True for the forms open-relay probes use to smuggle a second destination
   * through an accepted domain: `%` or `!` in the local part (`user%evil@ours`,
   * `evil!user@ours`), a quoted `@` (`"user@evil"@ours`), a source route
   * (`@hop:user@dest`), or an IP-literal domain (`user@[192.0.2.1]`).
   */
  relayProbe: boolean;
}

/** Splits `user@domain` (angle brackets tolerated) at its last `@`. */
export function parseRecipient(address: string): ParsedRecipient {
  let a = address.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1).trim();
  const at = a.lastIndexOf('@');
  if (at < 0) return { local: a, domain: '', relayProbe: false };
  const local = a.slice(0, at);
  const domain = a
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  const relayProbe =
    local === '' ||
    local.startsWith('@') ||
    local.includes(':') ||
    /[%!@]/.test(local) ||
    domain.startsWith('[') ||
    domain === '';
  return { local, domain, relayProbe };
}
