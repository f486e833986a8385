/**
 * True when a delivery-restriction entry (`user@domain` or `@domain`) names the
 * envelope sender, case-insensitively. The null sender `""` matches no entry.
 */
export function senderMatches(entry: string, sender: string): boolean {
  const s = sender.trim().toLowerCase();
  if (s === '') return false;
  const e = entry.trim().toLowerCase();
  if (e.startsWith('@')) {
    const at = s.lastIndexOf('@');
    return at >= 0 && s.slice(at) === e;
  }
  return s === e;
}
