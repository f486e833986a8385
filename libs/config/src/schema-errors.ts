import type { z } from 'zod';
import { formatPath, type ConfigError, type ConfigErrorCode } from './config-error.js';
import { configSchema, type ParsedConfig } from './schema.js';

type Issue = z.core.$ZodIssue;

/** The schema's issues as config errors, each with its code. */
export function schemaErrors(issues: readonly Issue[]): ConfigError[] {
  const out: ConfigError[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys)
        out.push({
          path: formatPath([...i.path, k]),
          reason: 'unknown key',
          code: 'MAILBUS_ERR_CONFIG_UNKNOWN_KEY',
        });
      continue;
    }
    const params = (i as { params?: { code?: ConfigErrorCode } }).params;
    const code = params?.code ?? 'MAILBUS_ERR_CONFIG_VALUE';
    const missing = i.code === 'invalid_type' && i.input === undefined;
    out.push({ path: formatPath(i.path), reason: missing ? 'is required' : i.message, code });
  }
  return out;
}

/** What the checker made of a config the schema refused, so the cross-field rules can run too. */
export interface Repaired {
  /** The schema's output for the repaired input, when the repair succeeded. */
  parsed?: ParsedConfig;
  /** Paths whose value was removed or replaced: rule errors at or under them are not the user's. */
  touched: string[];
}

type Container = Record<string | number, unknown>;

/** The container holding `path`'s last segment, or undefined when an ancestor is not there. */
function parentOf(root: unknown, path: readonly PropertyKey[]): Container | undefined {
  let node = root;
  for (const seg of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Container)[seg as string];
  }
  return typeof node === 'object' && node !== null ? (node as Container) : undefined;
}

/** A value of the kind the schema expected, to stand in for a missing or wrong required one. */
function placeholder(i: Issue): unknown {
  if (i.code === 'invalid_type') {
    if (i.expected === 'number') return 1;
    if (i.expected === 'boolean') return false;
    if (i.expected === 'array') return [];
    if (i.expected === 'object') return {};
    return 'x';
  }
  if (i.code === 'too_small' && i.origin === 'array') return ['x'];
  return 'x';
}

/**
 * Makes the input acceptable to the schema, step by step, so that the
 * cross-field rules can be checked in the same run: an unknown key is dropped;
 * a wrong value is dropped (its default applies); a required one still missing
 * gets a stand-in of the expected kind. Every path changed is returned, so the
 * caller can ignore rule errors about stand-ins. Gives up (no `parsed`) when a
 * path does not settle after a few tries.
 */
export function repairForRules(input: unknown, issues: readonly Issue[]): Repaired {
  const root = structuredClone(input);
  const touched = new Set<string>();
  const tries = new Map<string, number>();
  let current = issues;
  for (let round = 0; round < 12; round++) {
    for (const i of current) {
      if (i.code === 'unrecognized_keys') {
        const obj = i.path.length === 0 ? (root as Container) : parentOf(root, [...i.path, '']);
        for (const k of i.keys) {
          if (obj) delete obj[k];
          touched.add(formatPath([...i.path, k]));
        }
        continue;
      }
      const where = formatPath(i.path);
      const n = (tries.get(where) ?? 0) + 1;
      if (n > 4) return { touched: [...touched] };
      tries.set(where, n);
      touched.add(where);
      const parent = i.path.length === 0 ? undefined : parentOf(root, i.path);
      if (!parent) return { touched: [...touched] };
      const key = i.path[i.path.length - 1] as string | number;
      if (n === 1 && !Array.isArray(parent) && parent[key] !== undefined) delete parent[key];
      else parent[key] = placeholder(i);
    }
    const r = configSchema.safeParse(root);
    if (r.success) return { parsed: r.data, touched: [...touched] };
    current = r.error.issues;
  }
  return { touched: [...touched] };
}

/** Whether `path` is `base` or lies under it (`base.x`, `base[0]`). */
export function isUnder(path: string, base: string): boolean {
  if (base === '(root)') return true;
  return (
    path === base ||
    (path.startsWith(base) && (path[base.length] === '.' || path[base.length] === '['))
  );
}
