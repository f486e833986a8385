import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every line of every protocol log file under `dir` (every node's files). */
export function protocolLog(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('');
}
