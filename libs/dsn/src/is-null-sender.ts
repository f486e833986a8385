/** True for the null reverse-path `<>` (written `""` or `"<>"`), the sender of DSNs. */
export function isNullSender(addr: string): boolean {
  const a = addr.trim();
  return a === '' || a === '<>';
}
