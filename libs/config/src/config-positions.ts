import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { parsePath, type ConfigError } from './config-error.js';

/**
 * Where a config path is written in the file (offset): the key of the deepest
 * part of the path the file has (a missing key: where its parent starts).
 */
function offsetOf(doc: Document, path: string): number {
  let node: unknown = doc.contents;
  let at = doc.contents?.range?.[0] ?? 0;
  for (const seg of parsePath(path)) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) break;
      at = (pair.key as Node).range?.[0] ?? at;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      at = (node as Node).range?.[0] ?? at;
    } else break;
  }
  return at;
}

/** The errors in the order their places appear in the file (stable for errors at one place). */
export function inFileOrder(errors: readonly ConfigError[], doc: Document): ConfigError[] {
  const keyed = errors.map((e) => ({ e, at: offsetOf(doc, e.path) }));
  keyed.sort((a, b) => a.at - b.at);
  return keyed.map((k) => k.e);
}
