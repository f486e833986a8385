import { readFileSync } from 'node:fs';

/**
 * The valid recipients of an inbound domain (`recipientValidation: list`):
 * one address a line, `*` matching any run of characters (`*@contoso.com`,
 * `sales-*@contoso.com`), `#` comments, case-insensitive.
 */
export class RecipientList {
  private readonly exact = new Set<string>();
  private readonly patterns: RegExp[] = [];

  constructor(lines: readonly string[]) {
    for (const raw of lines) {
      const l = raw.replace(/#.*$/, '').trim().toLowerCase();
      if (l === '') continue;
      if (!l.includes('*')) this.exact.add(l);
      else
        this.patterns.push(
          new RegExp(
            `^${l
              .split('*')
              .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*')}$`,
          ),
        );
    }
  }

  /** Reads the file; an unreadable one is an error naming the config key and the file. */
  static fromFile(file: string, where: string): RecipientList {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(
        `${where}: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    return new RecipientList(text.split(/\r?\n/));
  }

  has(address: string): boolean {
    const a = address.toLowerCase();
    return this.exact.has(a) || this.patterns.some((p) => p.test(a));
  }
}
