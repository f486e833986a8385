/**
 * How closely an address space pattern matches a (lower-case) domain, or
 * undefined when it does not match at all. Larger is closer:
 * `*` = 0; `*.contoso.com` = 2 × its labels (subdomains at any depth, not
 * contoso.com itself); `contoso.com` = 2 × its labels + 1 (that domain only).
 * A matching exact space always has more labels than any matching wildcard,
 * so exact beats every wildcard and more labels beat fewer.
 */
export function addressSpaceSpecificity(pattern: string, domain: string): number | undefined {
  const p = pattern.trim().toLowerCase().replace(/\.$/, '');
  const d = domain.toLowerCase().replace(/\.$/, '');
  if (d === '') return undefined;
  if (p === '*') return 0;
  if (p.startsWith('*.')) {
    const suffix = p.slice(2);
    return d.endsWith(`.${suffix}`) ? 2 * labels(suffix) : undefined;
  }
  return d === p ? 2 * labels(p) + 1 : undefined;
}

function labels(name: string): number {
  return name.split('.').length;
}
