import { replies, SmtpRejection, type SmtpReply } from '@mailbus/smtp';

/** Turns anything thrown in a hook into smtp-server's error: a rejection keeps its reply, the rest is 451 4.3.0. */
export function toSmtpError(err: unknown): Error & { responseCode: number } {
  const r: SmtpReply = err instanceof SmtpRejection ? err.reply : replies.tempFailure();
  return Object.assign(new Error(r.enhanced ? `${r.enhanced} ${r.text}` : r.text), {
    responseCode: r.code,
  });
}

export function hook<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: [...A, (err?: Error | null) => void]) => void {
  return (...args) => {
    const cb = args.pop() as (err?: Error | null) => void;
    fn(...(args as unknown as A)).then(
      () => cb(),
      (err: unknown) => cb(toSmtpError(err)),
    );
  };
}
