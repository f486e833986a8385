import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigValidationError, formatPath, type ConfigError } from './config-error.js';
import type { Config } from './effective-config.js';
import { configSchema } from './schema.js';
import { checkTriggerAccounts } from './resolve-advanced.js';
import { validateConfig } from './validate-config.js';

export interface LoadOptions {
  /** Environment (for MAILBUS_REDIS_URL); pass process.env from main.ts. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The user names of a users file (`auth.usersFile`), undefined when it cannot be
   * read: checks `delivery.triggerAccounts`. main.ts reads the files; without it
   * the accounts are not checked against them.
   */
  userNames?: (usersFile: string) => readonly string[] | undefined;
}

export type ConfigResult =
  { ok: true; config: Config; warnings: ConfigError[] } | { ok: false; errors: ConfigError[] };

function zodErrors(issues: readonly z.core.$ZodIssue[]): ConfigError[] {
  const out: ConfigError[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ path: formatPath([...i.path, k]), reason: 'unknown key' });
    } else if (i.code === 'invalid_type' && i.input === undefined) {
      out.push({ path: formatPath(i.path), reason: 'is required' });
    } else {
      out.push({ path: formatPath(i.path), reason: i.message });
    }
  }
  return out;
}

/** Parses and validates mailbus.yaml text. Never throws on bad input: returns every error. */
export function parseConfig(text: string, options: LoadOptions = {}): ConfigResult {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(root)',
        reason: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    };
  }
  let raw: unknown;
  try {
    // toJS resolves aliases: an alias to no anchor, or an alias bomb past maxAliasCount, throws.
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return {
      ok: false,
      errors: [{ path: '(root)', reason: `YAML: ${(e as Error).message.split('\n')[0] ?? ''}` }],
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: '(root)', reason: 'the config must be a YAML mapping' }] };
  }
  const env = options.env ?? {};
  const withEnv = raw as Record<string, unknown>;
  if (env.MAILBUS_REDIS_URL) {
    const redis = (withEnv.redis ?? {}) as Record<string, unknown>;
    withEnv.redis = { ...redis, url: env.MAILBUS_REDIS_URL };
  }
  const parsed = configSchema.safeParse(withEnv);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error.issues) };
  const { config, errors, warnings } = validateConfig(parsed.data);
  if (!config) return { ok: false, errors };
  const accounts = options.userNames ? checkTriggerAccounts(config, options.userNames) : [];
  if (accounts.length > 0) return { ok: false, errors: accounts };
  return { ok: true, config, warnings };
}

/** Like parseConfig, but throws ConfigValidationError listing every error. */
export function loadConfig(text: string, options: LoadOptions = {}): Config {
  const r = parseConfig(text, options);
  if (!r.ok) throw new ConfigValidationError(r.errors);
  return r.config;
}
