import { spawnSync } from 'node:child_process';

/** One MIME entity as Python's `email` package reads it. */
export interface PythonMimePart {
  /** `type/subtype`, lower case. */
  type: string;
  /** Content-Type parameters (`charset`, `report-type`, `boundary`…). */
  params: Record<string, string>;
  cte: string | null;
  headers: Array<[string, string]>;
  /** Sub-entities: the parts of a multipart, the message inside a message/*. */
  parts?: PythonMimePart[];
  /** A leaf's body after its Content-Transfer-Encoding is undone, read as UTF-8. */
  text?: string | null;
  /** The entity as Python writes it back (headers and body), for fields of a report part. */
  raw: string;
}

const SCRIPT = `
import sys, json, email
from email import policy
def walk(m):
    d = {'type': m.get_content_type(), 'params': {k: v for k, v in (m.get_params() or [])[1:]},
         'cte': m.get('Content-Transfer-Encoding'), 'headers': [[k, str(v)] for k, v in m.items()],
         'raw': m.as_bytes(policy=policy.SMTPUTF8).decode('utf-8', 'replace')}
    if m.is_multipart():
        d['parts'] = [walk(p) for p in m.get_payload()]
    else:
        b = m.get_payload(decode=True)
        d['text'] = None if b is None else b.decode('utf-8', 'replace')
    return d
print(json.dumps(walk(email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default))))
`;

export const hasPython = spawnSync('python3', ['-c', 'import email']).status === 0;

/** Parses a raw message with Python's `email` package (a MIME reader mailbus did not write). */
export function parseWithPython(raw: Buffer): PythonMimePart {
  const r = spawnSync('python3', ['-c', SCRIPT], { input: raw, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`python email failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PythonMimePart;
}
