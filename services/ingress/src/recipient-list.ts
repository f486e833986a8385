import { readFileSync } from 'node:fs';
import { ConfigFileError } from '@mailbus/config';

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

  /**
   * Reads the file; an unreadable one is a `MAILBUS_ERR_CONFIG_FILE_UNREADABLE` naming the config
   * key, the file and why: mailbus does not start (never a silent accept-all or refuse-all).
   */
  static fromFile(file: string, where: string): RecipientList {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigFileError(where, file, err);
    }
    return new RecipientList(text.split(/\r?\n/));
  }

  has(address: string): boolean {
    const a = address.toLowerCase();
    return this.exact.has(a) || this.patterns.some((p) => p.test(a));
  }
}
