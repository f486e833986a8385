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
