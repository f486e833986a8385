// A strict reader of W3C Extended Log Files as IIS/Exchange wrote them, written for the tests
// and independent of the writer: it throws on anything Log Parser (-i:IISW3C) would trip on.
export interface W3CBlock {
  software: string;
  version: string;
  date: string;
  fields: string[];
  /** Raw (still escaped) values, by field name. */
  rows: Array<Record<string, string>>;
}

export function readW3C(text: string): W3CBlock[] {
  if (text === '') throw new Error('empty file');
  if (!text.endsWith('\r\n')) throw new Error('file does not end with CRLF');
  const lines = text.slice(0, -2).split('\r\n');
  const blocks: W3CBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (/[\r\n]/.test(line)) throw new Error(`bare CR or LF in line ${i + 1}`);
    if (line.startsWith('#')) {
      blocks.push(readDirectives(lines, i));
      i += 4;
      continue;
    }
    const block = blocks.at(-1);
    if (!block) throw new Error(`data line ${i + 1} before any directives`);
    block.rows.push(readRow(block.fields, line, i + 1));
    i++;
  }
  return blocks;
}

function readDirectives(lines: string[], at: number): W3CBlock {
  const want = ['#Software: ', '#Version: ', '#Date: ', '#Fields: '];
  const values = want.map((prefix, k) => {
    const line = lines[at + k];
    if (line === undefined || !line.startsWith(prefix)) {
      throw new Error(`line ${at + k + 1}: expected ${prefix.trim()} directive, got ${line}`);
    }
    return line.slice(prefix.length);
  });
  const [software, version, date, fields] = values as [string, string, string, string];
  if (software === '') throw new Error('empty #Software');
  if (version !== '1.0') throw new Error(`#Version ${version}`);
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(date)) throw new Error(`#Date ${date}`);
  const names = fields.split(' ');
  if (names.some((n) => n === '')) throw new Error(`#Fields has empty names: "${fields}"`);
  return { software, version, date, fields: names, rows: [] };
}

function readRow(fields: string[], line: string, lineNo: number): Record<string, string> {
  const values = line.split(' ');
  if (values.length !== fields.length) {
    throw new Error(`line ${lineNo}: ${values.length} values for ${fields.length} fields: ${line}`);
  }
  const row: Record<string, string> = {};
  values.forEach((v, k) => {
    if (!/^[^\s\x00-\x1f\x7f]+$/.test(v)) throw new Error(`line ${lineNo}: bad value "${v}"`);
    const name = fields[k] as string;
    if (name === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error(`bad date ${v}`);
    if (name === 'time' && !/^\d{2}:\d{2}:\d{2}$/.test(v)) throw new Error(`bad time ${v}`);
    row[name] = v;
  });
  return row;
}

/** A value as it was meant: `-` is empty, `+` is a space, `%XX` a byte. */
export function decodeValue(value: string): string {
  if (value === '-') return '';
  const bytes: number[] = [];
  const text = value.replace(/\+/g, ' ');
  for (let i = 0; i < text.length;) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
