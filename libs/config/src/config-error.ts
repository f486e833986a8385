/** One configuration mistake: where it is (`connectors[1].smartHosts[0]`) and why it is wrong. */
export interface ConfigError {
  path: string;
  reason: string;
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

export function formatConfigError(e: ConfigError): string {
  return `${e.path}: ${e.reason}`;
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
