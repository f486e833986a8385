import { parseDocument } from 'yaml';
import { ConfigValidationError, type ConfigError } from './config-error.js';
import { inFileOrder } from './config-positions.js';
import { isUnder, repairForRules, schemaErrors } from './schema-errors.js';
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

/** Parses and validates mailbus.yaml text. Never throws on bad input: returns every error. */
export function parseConfig(text: string, options: LoadOptions = {}): ConfigResult {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(root)',
        reason: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
        code: 'MAILBUS_ERR_CONFIG_YAML' as const,
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
      errors: [
        {
          path: '(root)',
          reason: `YAML: ${(e as Error).message.split('\n')[0] ?? ''}`,
          code: 'MAILBUS_ERR_CONFIG_YAML',
        },
      ],
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      errors: [
        {
          path: '(root)',
          reason: 'the config must be a YAML mapping',
          code: 'MAILBUS_ERR_CONFIG_VALUE',
        },
      ],
    };
  }
  const env = options.env ?? {};
  const withEnv = raw as Record<string, unknown>;
  if (env.MAILBUS_REDIS_URL) {
    const redis = (withEnv.redis ?? {}) as Record<string, unknown>;
    withEnv.redis = { ...redis, url: env.MAILBUS_REDIS_URL };
  }
  const parsed = configSchema.safeParse(withEnv);
  if (parsed.success) {
    const { config, errors, warnings } = validateConfig(parsed.data);
    if (!config) return { ok: false, errors: inFileOrder(errors.map(asRuleError), doc) };
    const accounts = options.userNames ? checkTriggerAccounts(config, options.userNames) : [];
    if (accounts.length > 0)
      return { ok: false, errors: inFileOrder(accounts.map(asRuleError), doc) };
    return { ok: true, config, warnings };
  }
  // Schema errors (unknown keys, durations, types) do not hide the rules: the
  // rules run on the config with those values dropped, and every error of both
  // kinds is reported in one run, in file order.
  const errors = schemaErrors(parsed.error.issues);
  const repaired = repairForRules(withEnv, parsed.error.issues);
  if (repaired.parsed) {
    for (const e of validateConfig(repaired.parsed).errors)
      if (!repaired.touched.some((t) => isUnder(e.path, t))) errors.push(asRuleError(e));
  }
  return { ok: false, errors: inFileOrder(errors, doc) };
}

/** Like parseConfig, but throws ConfigValidationError listing every error. */
export function loadConfig(text: string, options: LoadOptions = {}): Config {
  const r = parseConfig(text, options);
  if (!r.ok) throw new ConfigValidationError(r.errors);
  return r.config;
}

/** A cross-field rule's error (validateConfig's), with its code. */
function asRuleError(e: ConfigError): ConfigError {
  return { ...e, code: e.code ?? 'MAILBUS_ERR_CONFIG_RULE' };
}
