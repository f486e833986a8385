import { retryDelay } from './retry-delay.js';
import type { Schedule } from './schedule.js';

/** A connector's retry settings (config `retry`), in ms. */
export interface RetryRules {
  readonly intervals: readonly number[];
  readonly expireAfter: number;
  readonly delayNotifyAfter: number;
}

/** What the policy needs to know of one connector. */
export interface ConnectorRules {
  readonly name: string;
  readonly retry: RetryRules;
  /** The delivery schedule; undefined = always open. */
  readonly schedule?: Schedule | undefined;
  /** Messages larger than `thresholdBytes` follow `schedule` instead. */
  readonly oversize?: { readonly thresholdBytes: number; readonly schedule: Schedule } | undefined;
  /** Held until ETRN (or an operator) releases the job. */
  readonly remoteTriggered: boolean;
}

/** A message's state as the policy sees it (all from the job). */
export interface MessageFacts {
  readonly receivedAt: number;
  readonly size: number;
  /** Candidate connectors in try order. */
  readonly plan: readonly string[];
  /** Index into plan of the connector the job is (or is about to be) on. */
  readonly planIndex: number;
  /** Full passes over the plan that failed. */
  readonly round: number;
  readonly delayNotified: boolean;
}

/**
 * What happened:
 * - `enqueue`: a job is about to be added on plan[planIndex];
 * - `pickup`: a worker took the job; `linkDown` says its connector is marked down;
 * - `transient`: the attempt on plan[planIndex] failed transiently (or the link was down);
 * - `permanent`: the next hop refused recipients with a 5xx.
 */
export type DeliveryEvent =
  | { readonly kind: 'enqueue' }
  | { readonly kind: 'pickup'; readonly linkDown: boolean }
  | { readonly kind: 'transient' }
  | { readonly kind: 'permanent' };

export interface PolicyInput {
  readonly message: MessageFacts;
  readonly event: DeliveryEvent;
  readonly now: number;
  /** Until when an operator's "retry now" opens a connector whatever its schedule (ms), by name. */
  readonly forcedUntil?: ReadonlyMap<string, number> | undefined;
}

/** Why a job waits. */
export type WaitReason = 'schedule' | 'held' | 'retry';

/** Why a message is given up with 5.4.7. */
export type ExpiryReason = 'schedule' | 'held' | 'retries';

/** The next step, one of: */
export type DeliveryStep =
  /** Deliver now on plan[planIndex]. */
  | { readonly kind: 'deliver'; readonly connector: string }
  /** Wait (as a delayed job) on plan[planIndex] until `until`. */
  | {
      readonly kind: 'wait';
      readonly connector: string;
      readonly until: number;
      readonly reason: WaitReason;
    }
  /** Hand the recipients to the next candidate, due at `until` (its schedule). */
  | {
      readonly kind: 'failover';
      readonly from: string;
      readonly connector: string;
      readonly planIndex: number;
      readonly until: number;
      /** The link of `from` was marked down: no attempt was made. */
      readonly skipped: boolean;
    }
  /**
   * Start the next pass on plan[0] at `until`. With `delayNotice`, send the one
   * delay DSN now, announcing `willRetryUntil`.
   */
  | {
      readonly kind: 'retry';
      readonly connector: string;
      readonly round: number;
      readonly until: number;
      readonly delayNotice: boolean;
      readonly willRetryUntil: number;
    }
  /** Give up: DSN 5.4.7. */
  | { readonly kind: 'expire'; readonly connector: string; readonly reason: ExpiryReason }
  /** Final for those recipients: a failure DSN with the remote's reply, no failover. */
  | { readonly kind: 'bounce'; readonly connector: string };

/** What follows a transient failure. */
export type OnwardStep = Extract<DeliveryStep, { kind: 'failover' | 'retry' | 'expire' }>;

/**
 * Every delivery decision of mailbus, in one place, with time as a parameter.
 * The rules (docs/delivery.md states each once):
 * 1. A message's lifetime and retry series are those of its first-choice
 *    connector (plan[0]): expiresAt = receivedAt + expireAfter of plan[0].
 * 2. A job is due when its connector's schedule (the oversize one above the
 *    threshold) is open, or an operator's force window is open; otherwise it
 *    waits for the next opening, but never past expiresAt.
 * 3. A remote-triggered connector holds a new job until expiresAt; a job taken
 *    from it (released by ETRN or an operator) is delivered.
 * 4. A job taken at or after expiresAt while it may not be delivered expires.
 * 5. A transient failure (or a link marked down, skipping the attempt) hands
 *    the recipients to the next candidate at once (due per rule 2).
 * 6. After the last candidate, the next pass starts on plan[0] after
 *    intervals[round] (the last repeats), but not later than expiresAt: the
 *    last pass is made at expiresAt itself. A pass that fails at or after
 *    expiresAt expires.
 * 7. At the first retry at or after receivedAt + delayNotifyAfter, one delay
 *    DSN announces expiresAt; never a second.
 * 8. A permanent failure (5xx) is final for its recipients: bounce, no failover.
 */
export class DeliveryPolicy {
  private readonly rules: ReadonlyMap<string, ConnectorRules>;

  /** `fallback` governs a connector the rules do not name (local delivery). */
  constructor(
    rules: readonly ConnectorRules[],
    private readonly fallback: RetryRules,
  ) {
    this.rules = new Map(rules.map((r) => [r.name, r]));
  }

  /** The retry settings a message follows: those of its first-choice connector (rule 1). */
  retryOf(message: MessageFacts): RetryRules {
    return this.rules.get(message.plan[0] ?? '')?.retry ?? this.fallback;
  }

  /** When the message expires (rule 1). */
  expiresAt(message: MessageFacts): number {
    return message.receivedAt + this.retryOf(message).expireAfter;
  }

  /** The schedule that governs a message of `size` bytes on `connector`; undefined = always. */
  scheduleOf(connector: string, size: number): Schedule | undefined {
    const r = this.rules.get(connector);
    if (r?.oversize && size > r.oversize.thresholdBytes) return r.oversize.schedule;
    return r?.schedule;
  }

  /** True when a force window could change a decision for this connector and size. */
  hasSchedule(connector: string, size: number): boolean {
    const s = this.scheduleOf(connector, size);
    return s !== undefined && s.spec !== 'always';
  }

  /** The next step (after a transient failure: failover, retry or expire). */
  decide(input: PolicyInput & { readonly event: { readonly kind: 'transient' } }): OnwardStep;
  decide(
    input: PolicyInput & { readonly event: { readonly kind: 'permanent' } },
  ): Extract<DeliveryStep, { kind: 'bounce' }>;
  decide(
    input: PolicyInput & { readonly event: { readonly kind: 'enqueue' | 'pickup' } },
  ): Exclude<DeliveryStep, { kind: 'bounce' }>;
  decide(input: PolicyInput): DeliveryStep;
  decide(input: PolicyInput): DeliveryStep {
    const { message: m, event, now } = input;
    const connector = m.plan[m.planIndex] ?? m.plan[0] ?? '';
    if (event.kind === 'transient') return this.afterTransient(input, connector, false);
    // Rule 8.
    if (event.kind === 'permanent') return { kind: 'bounce', connector };
    const expiresAt = this.expiresAt(m);
    const rules = this.rules.get(connector);
    if (rules?.remoteTriggered) {
      if (now >= expiresAt) return { kind: 'expire', connector, reason: 'held' };
      if (event.kind === 'enqueue')
        return { kind: 'wait', connector, until: expiresAt, reason: 'held' };
    }
    const due = this.openAt(connector, m.size, now, input.forcedUntil);
    if (due > now) {
      if (now >= expiresAt) return { kind: 'expire', connector, reason: 'schedule' };
      return { kind: 'wait', connector, until: Math.min(due, expiresAt), reason: 'schedule' };
    }
    if (event.kind === 'pickup' && event.linkDown && m.planIndex + 1 < m.plan.length)
      return this.afterTransient(input, connector, true);
    return { kind: 'deliver', connector };
  }

  /** Rules 5–7. */
  private afterTransient(input: PolicyInput, from: string, skipped: boolean): OnwardStep {
    const { message: m, now } = input;
    const expiresAt = this.expiresAt(m);
    const next = m.planIndex + 1;
    if (next < m.plan.length) {
      const connector = m.plan[next] as string;
      return {
        kind: 'failover',
        from,
        connector,
        planIndex: next,
        until: capped(this.openAt(connector, m.size, now, input.forcedUntil), now, expiresAt),
        skipped,
      };
    }
    const first = m.plan[0] ?? from;
    if (now >= expiresAt) return { kind: 'expire', connector: first, reason: 'retries' };
    const retry = this.retryOf(m);
    const at = Math.min(now + retryDelay(retry.intervals, m.round), expiresAt);
    const notifyAt = m.receivedAt + retry.delayNotifyAfter;
    return {
      kind: 'retry',
      connector: first,
      round: m.round + 1,
      until: capped(this.openAt(first, m.size, at, input.forcedUntil), at, expiresAt),
      delayNotice:
        !m.delayNotified && retry.delayNotifyAfter < retry.expireAfter && now >= notifyAt,
      willRetryUntil: expiresAt,
    };
  }

  /** Rule 2: the first instant >= t the connector may deliver (t if open; Infinity for never). */
  private openAt(
    connector: string,
    size: number,
    t: number,
    forcedUntil: ReadonlyMap<string, number> | undefined,
  ): number {
    const s = this.scheduleOf(connector, size);
    if (!s || s.isOpen(t)) return t;
    if ((forcedUntil?.get(connector) ?? 0) > t) return t;
    return s.nextOpen(t);
  }
}

/** A wait never runs past expiry (rule 2), and never ends before `t`. */
function capped(due: number, t: number, expiresAt: number): number {
  return Math.max(t, Math.min(due, expiresAt));
}
