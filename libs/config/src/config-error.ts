/** What kind of mistake a config error is; each code is documented in docs/errors.md. */
export type ConfigErrorCode =
  | 'MAILBUS_ERR_CONFIG_YAML'
  | 'MAILBUS_ERR_CONFIG_UNKNOWN_KEY'
  | 'MAILBUS_ERR_CONFIG_DURATION'
  | 'MAILBUS_ERR_CONFIG_VALUE'
  | 'MAILBUS_ERR_CONFIG_RULE';

/** One configuration mistake: where it is (`connectors[1].smartHosts[0]`) and why it is wrong. */
export interface ConfigError {
  path: string;
  reason: string;
  /** Set by parseConfig on every error (not on warnings). */
  code?: ConfigErrorCode;
}

/** Formats a zod/yaml path array as `connectors[1].smartHosts[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** The inverse of formatPath: `connectors[1].smartHosts[0]` → `['connectors', 1, 'smartHosts', 0]`. */
export function parsePath(path: string): Array<string | number> {
  if (path === '(root)') return [];
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** `<path>: <reason>`, then the error's code in brackets when it has one. */
export function formatConfigError(e: ConfigError): string {
  return `${e.path}: ${e.reason}${e.code ? ` [${e.code}]` : ''}`;
}

/** Thrown by loadConfig when the file cannot be used; `errors` holds every mistake found. */
export class ConfigValidationError extends Error {
  readonly code = 'MAILBUS_ERR_CONFIG_INVALID';
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors.map(formatConfigError).join('\n'));
    this.name = 'ConfigValidationError';
  }
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * A file the config names (`recipientPolicies[0].validRecipientsFile`) cannot be read when
 * mailbus starts: the message names the key, the file and why, after the stable code.
 */
export class ConfigFileError extends Error {
  readonly code = 'MAILBUS_ERR_CONFIG_FILE_UNREADABLE';
  constructor(path: string, file: string, cause: unknown) {
    const errno = (cause as { code?: string } | null)?.code;
    const why = (errno && FILE_ERRORS[errno]) ?? (cause as Error | null)?.message ?? String(cause);
    super(
      `MAILBUS_ERR_CONFIG_FILE_UNREADABLE: ${path}: cannot read "${file}": ${why}${errno ? ` (${errno})` : ''}`,
    );
    this.name = 'ConfigFileError';
  }
}

/**
 * Reads `file`, which the config names at `path` (`virtualServers[0].tls.clientCa`), with
 * `read`; a file that cannot be read is a ConfigFileError naming the key, the file and why.
 */
export function readConfigFile<T>(path: string, file: string, read: (file: string) => T): T {
  try {
    return read(file);
  } catch (err) {
    throw new ConfigFileError(path, file, err);
  }
}
