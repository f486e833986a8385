/** A mistake in how the command was called: exit status 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A mistake in what the user asked for (bad config, unknown connector): exit status 1. */
export class UserError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
