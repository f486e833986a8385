import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeliveryPolicy,
  type ConnectorRules,
  type DeliveryStep,
  type MessageFacts,
  type RetryRules,
} from './delivery-policy.js';
import { parseSchedule } from './parse-schedule.js';
import type { Schedule } from './schedule.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DEFAULT_RETRY: RetryRules = {
  intervals: [15 * MIN, 30 * MIN, 60 * MIN, 240 * MIN],
  expireAfter: 48 * HOUR,
  delayNotifyAfter: 12 * HOUR,
};

function schedule(spec: string | string[], tz = 'UTC'): Schedule {
  const r = parseSchedule(spec, tz);
  if (!r.ok) throw new Error(r.reason);
  return r.schedule;
}

function connector(name: string, over: Partial<ConnectorRules> = {}): ConnectorRules {
  return { name, retry: DEFAULT_RETRY, remoteTriggered: false, ...over };
}

/** What happened to a message, in order: a line per step, times relative to arrival. */
interface Lifecycle {
  events: string[];
  end: 'delivered' | 'expired' | 'bounced' | 'held';
  endAt: number;
  notices: number[];
  willRetryUntil: number[];
  attempts: Array<{ connector: string; at: number; pass: number }>;
}

interface World {
  /** Does an attempt on `connector` at `t` succeed? */
  up: (connector: string, t: number) => boolean;
  /** Does the next hop of `connector` refuse the recipient with a 5xx at `t`? */
  refuses?: (connector: string, t: number) => boolean;
  /** Is the connector's link marked down at `t` (the attempt is skipped)? */
  linkDown?: (connector: string, t: number) => boolean;
  forcedUntil?: ReadonlyMap<string, number>;
}

/**
 * Runs a message from arrival to its end through the policy alone, as the
 * enqueue path and the worker do: enqueue, wait, pick up, attempt, and ask
 * again after every transient failure. Bounded in steps.
 */
function run(
  policy: DeliveryPolicy,
  arrival: number,
  plan: string[],
  world: World,
  size = 1000,
): Lifecycle {
  let m: MessageFacts = {
    receivedAt: arrival,
    size,
    plan,
    planIndex: 0,
    round: 0,
    delayNotified: false,
  };
  const out: Lifecycle = {
    events: [],
    end: 'held',
    endAt: 0,
    notices: [],
    willRetryUntil: [],
    attempts: [],
  };
  const rel = (t: number) => `${(t - arrival) / S}s`;
  const forcedUntil = world.forcedUntil;
  /** A worker takes the job on `connector` at `t` and asks the policy. */
  const pickup = (connector: string, t: number): DeliveryStep =>
    policy.decide({
      message: m,
      event: { kind: 'pickup', linkDown: world.linkDown?.(connector, t) ?? false },
      now: t,
      forcedUntil,
    });
  let step: DeliveryStep = policy.decide({
    message: m,
    event: { kind: 'enqueue' },
    now: arrival,
    forcedUntil,
  });
  // A job due at once is taken by a worker, which asks again.
  if (step.kind === 'deliver') step = pickup(step.connector, arrival);
  let now = arrival;
  for (let i = 0; i < 5000; i++) {
    switch (step.kind) {
      case 'wait':
        out.events.push(`wait ${step.reason} on ${step.connector} until ${rel(step.until)}`);
        if (step.reason === 'held') {
          out.endAt = step.until;
          now = step.until;
          // Nobody released it: picked up when the hold ends.
          step = policy.decide({
            message: m,
            event: { kind: 'pickup', linkDown: false },
            now,
            forcedUntil,
          });
          if (step.kind === 'expire') break;
          return out;
        }
        now = step.until;
        step = pickup(step.connector, now);
        break;
      case 'deliver':
        out.attempts.push({ connector: step.connector, at: now, pass: m.round });
        if (world.refuses?.(step.connector, now)) {
          out.events.push(`5xx on ${step.connector} at ${rel(now)}`);
          step = policy.decide({ message: m, event: { kind: 'permanent' }, now, forcedUntil });
          break;
        }
        if (world.up(step.connector, now)) {
          out.events.push(`delivered on ${step.connector} at ${rel(now)}`);
          out.end = 'delivered';
          out.endAt = now;
          return out;
        }
        out.events.push(`transient on ${step.connector} at ${rel(now)}`);
        step = policy.decide({ message: m, event: { kind: 'transient' }, now, forcedUntil });
        break;
      case 'failover':
        out.events.push(
          `failover ${step.from} → ${step.connector}${step.skipped ? ' (down)' : ''} due ${rel(step.until)}`,
        );
        m = { ...m, planIndex: step.planIndex };
        now = Math.max(now, step.until);
        step = pickup(step.connector, now);
        break;
      case 'retry':
        if (step.delayNotice) {
          out.notices.push(now);
          out.willRetryUntil.push(step.willRetryUntil);
          out.events.push(`delay notice at ${rel(now)} until ${rel(step.willRetryUntil)}`);
        }
        out.events.push(`retry ${step.round} on ${step.connector} at ${rel(step.until)}`);
        m = {
          ...m,
          planIndex: 0,
          round: step.round,
          delayNotified: m.delayNotified || step.delayNotice,
        };
        now = step.until;
        step = pickup(step.connector, now);
        break;
      case 'bounce':
        out.events.push(`bounce on ${step.connector} at ${rel(now)}`);
        out.end = 'bounced';
        out.endAt = now;
        return out;
      case 'expire':
        out.events.push(`expire (${step.reason}) at ${rel(now)}`);
        out.end = 'expired';
        out.endAt = now;
        return out;
    }
  }
  throw new Error(`no end after 5000 steps: ${out.events.slice(-5).join('; ')}`);
}

const MON_NOON = Date.parse('2026-01-05T12:00:00Z');

describe('delivery policy: whole lifecycles', () => {
  test('failover then retry waits the first-choice connector\u2019s interval, not the fallback\u2019s', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Internet', {
          retry: { intervals: [MIN], expireAfter: 10 * MIN, delayNotifyAfter: 5 * MIN },
        }),
        connector('Backup'),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Internet', 'Backup'], {
      up: (c, t) => c === 'Internet' && t >= MON_NOON + 2 * MIN,
    });
    assert.deepEqual(life.events, [
      'transient on Internet at 0s',
      'failover Internet → Backup due 0s',
      'transient on Backup at 0s',
      'retry 1 on Internet at 60s',
      'transient on Internet at 60s',
      'failover Internet → Backup due 60s',
      'transient on Backup at 60s',
      'retry 2 on Internet at 120s',
      'delivered on Internet at 120s',
    ]);
  });

  test('expires exactly at arrival + expireAfter, when the delay notice said it would', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Internet', {
          retry: { intervals: [20 * S], expireAfter: 100 * S, delayNotifyAfter: 30 * S },
        }),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Internet'], { up: () => false });
    assert.deepEqual(
      life.attempts.map((a) => (a.at - MON_NOON) / S),
      [0, 20, 40, 60, 80, 100],
    );
    assert.equal(life.end, 'expired');
    assert.equal(life.endAt, MON_NOON + 100 * S);
    assert.deepEqual(life.notices, [MON_NOON + 40 * S]);
    assert.deepEqual(life.willRetryUntil, [life.endAt]);
  });

  test('the default 2-day lifetime is 48 hours, not 45h45m', () => {
    const policy = new DeliveryPolicy([connector('Internet')], DEFAULT_RETRY);
    const life = run(policy, MON_NOON, ['Internet'], { up: () => false });
    assert.equal(life.endAt - MON_NOON, 48 * HOUR);
    assert.equal(life.notices.length, 1);
    assert.ok((life.notices[0] ?? 0) >= MON_NOON + 12 * HOUR);
  });

  test('a closed schedule waits for its opening, then delivers', () => {
    const policy = new DeliveryPolicy(
      [connector('Night', { schedule: schedule('Mon-Fri 18:00-23:45') })],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Night'], { up: () => true });
    assert.deepEqual(life.events, [
      'wait schedule on Night until 21600s',
      'delivered on Night at 21600s',
    ]);
  });

  test('a retry that falls in a closed window waits for the next opening', () => {
    const policy = new DeliveryPolicy(
      [connector('Night', { schedule: schedule('Mon-Sun 12:00-12:30') })],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Night'], { up: (_c, t) => t > MON_NOON + HOUR });
    assert.deepEqual(life.events, [
      'transient on Night at 0s',
      'retry 1 on Night at 900s',
      'transient on Night at 900s',
      'retry 2 on Night at 86400s',
      'delivered on Night at 86400s',
    ]);
  });

  test('only the oversize schedule holds big mail; small mail goes at once', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Internet', {
          oversize: { thresholdBytes: 10_000, schedule: schedule('Mon-Sun 22:00-23:00') },
        }),
      ],
      DEFAULT_RETRY,
    );
    assert.deepEqual(run(policy, MON_NOON, ['Internet'], { up: () => true }, 5000).events, [
      'delivered on Internet at 0s',
    ]);
    assert.deepEqual(run(policy, MON_NOON, ['Internet'], { up: () => true }, 50_000).events, [
      'wait schedule on Internet until 36000s',
      'delivered on Internet at 36000s',
    ]);
  });

  test('a force window opens a closed schedule for new mail too', () => {
    const policy = new DeliveryPolicy(
      [connector('Night', { schedule: schedule('never') })],
      DEFAULT_RETRY,
    );
    const forcedUntil = new Map([['Night', MON_NOON + 15 * MIN]]);
    assert.deepEqual(
      run(policy, MON_NOON + 38 * S, ['Night'], { up: () => true, forcedUntil }).events,
      ['delivered on Night at 0s'],
    );
  });

  test('a never schedule ends in 5.4.7 at expiry', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Never', {
          schedule: schedule('never'),
          retry: { ...DEFAULT_RETRY, expireAfter: HOUR },
        }),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Never'], { up: () => true });
    assert.deepEqual(life.events, [
      'wait schedule on Never until 3600s',
      'expire (schedule) at 3600s',
    ]);
  });

  test('a failover to a closed connector waits for it, the rest of the pass follows', () => {
    const policy = new DeliveryPolicy(
      [
        connector('A'),
        connector('B', { schedule: schedule('Mon-Sun 13:00-14:00') }),
        connector('C'),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['A', 'B', 'C'], { up: (c) => c === 'C' });
    assert.deepEqual(life.events, [
      'transient on A at 0s',
      'failover A → B due 3600s',
      'transient on B at 3600s',
      'failover B → C due 3600s',
      'delivered on C at 3600s',
    ]);
  });

  test('a link marked down is skipped when a next candidate exists, tried when it is the last', () => {
    const policy = new DeliveryPolicy([connector('A'), connector('B')], DEFAULT_RETRY);
    const life = run(policy, MON_NOON, ['A', 'B'], {
      up: (c) => c === 'B',
      linkDown: (c) => c === 'A',
    });
    assert.deepEqual(life.events, ['failover A → B (down) due 0s', 'delivered on B at 0s']);
    const last = run(policy, MON_NOON, ['B', 'A'], { up: () => false, linkDown: (c) => c === 'A' });
    assert.equal(last.attempts[1]?.connector, 'A');
  });

  test('retries across a DST change open in local time', () => {
    // Europe/Berlin moves to CEST on Sunday 2026-03-29; Sunday 09:00 local is 07:00Z.
    const policy = new DeliveryPolicy(
      [connector('Sunday', { schedule: schedule('Sun 09:00-10:00', 'Europe/Berlin') })],
      { ...DEFAULT_RETRY },
    );
    const arrival = Date.parse('2026-03-28T20:00:00Z');
    const life = run(policy, arrival, ['Sunday'], { up: () => true });
    assert.equal(new Date(life.endAt).toISOString(), '2026-03-29T07:00:00.000Z');
  });

  test('a remote-triggered connector holds new mail until expiry', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Etrn', {
          remoteTriggered: true,
          retry: { ...DEFAULT_RETRY, expireAfter: HOUR },
        }),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Etrn'], { up: () => true });
    assert.deepEqual(life.events, ['wait held on Etrn until 3600s', 'expire (held) at 3600s']);
    const released = policy.decide({
      message: {
        receivedAt: MON_NOON,
        size: 1,
        plan: ['Etrn'],
        planIndex: 0,
        round: 0,
        delayNotified: false,
      },
      event: { kind: 'pickup', linkDown: false },
      now: MON_NOON + MIN,
    });
    assert.equal(released.kind, 'deliver');
  });

  test('rule 1: a message on a later candidate lives as long as its first choice says, whatever the later one says', () => {
    const short = connector('Short', {
      retry: { intervals: [MIN], expireAfter: 10 * MIN, delayNotifyAfter: 5 * MIN },
    });
    const policy = new DeliveryPolicy([short, connector('Long')], DEFAULT_RETRY);
    const cut = run(policy, MON_NOON, ['Short', 'Long'], { up: () => false });
    assert.equal(cut.end, 'expired');
    assert.equal(cut.endAt - MON_NOON, 10 * MIN, 'Short first: 10 minutes, not Long\u2019s 2 days');
    const kept = run(policy, MON_NOON, ['Long', 'Short'], { up: () => false });
    assert.equal(
      kept.endAt - MON_NOON,
      48 * HOUR,
      'Long first: Short\u2019s 10 minutes do not cut it',
    );
  });

  test('rule 2: a force window opens a closed schedule for a job taken while it is open, and only then', () => {
    const policy = new DeliveryPolicy(
      [connector('Night', { schedule: schedule('Mon-Fri 18:00-23:45') })],
      DEFAULT_RETRY,
    );
    const m: MessageFacts = {
      receivedAt: MON_NOON,
      size: 1,
      plan: ['Night'],
      planIndex: 0,
      round: 0,
      delayNotified: false,
    };
    const forcedUntil = new Map([['Night', MON_NOON + 15 * MIN]]);
    const pickup = (now: number) =>
      policy.decide({ message: m, event: { kind: 'pickup', linkDown: false }, now, forcedUntil });
    assert.deepEqual(pickup(MON_NOON + 14 * MIN), { kind: 'deliver', connector: 'Night' });
    assert.deepEqual(pickup(MON_NOON + 15 * MIN), {
      kind: 'wait',
      connector: 'Night',
      until: MON_NOON + 6 * HOUR,
      reason: 'schedule',
    });
  });

  test('rule 2: a wait never runs past the expiry: a schedule that opens after it ends in 5.4.7 at the expiry', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Weekend', {
          schedule: schedule('Sat 00:00-24:00'),
          retry: { ...DEFAULT_RETRY, expireAfter: 24 * HOUR },
        }),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Weekend'], { up: () => true });
    assert.deepEqual(life.events, [
      'wait schedule on Weekend until 86400s',
      'expire (schedule) at 86400s',
    ]);
  });

  test('rule 4: a job taken exactly at its expiry is delivered when it may go (the last try), expired when it may not', () => {
    const retry = { ...DEFAULT_RETRY, expireAfter: HOUR };
    const policy = new DeliveryPolicy(
      [connector('Open', { retry }), connector('Closed', { retry, schedule: schedule('never') })],
      DEFAULT_RETRY,
    );
    const at = (plan: string[]) =>
      policy.decide({
        message: {
          receivedAt: MON_NOON,
          size: 1,
          plan,
          planIndex: 0,
          round: 3,
          delayNotified: true,
        },
        event: { kind: 'pickup', linkDown: false },
        now: MON_NOON + HOUR,
      });
    assert.deepEqual(at(['Open']), { kind: 'deliver', connector: 'Open' });
    assert.deepEqual(at(['Closed']), { kind: 'expire', connector: 'Closed', reason: 'schedule' });
  });

  test('rule 6: the last retry interval repeats until the last pass, made at the expiry', () => {
    const policy = new DeliveryPolicy(
      [
        connector('Internet', {
          retry: { intervals: [MIN, 5 * MIN], expireAfter: 20 * MIN, delayNotifyAfter: 8 * MIN },
        }),
      ],
      DEFAULT_RETRY,
    );
    const life = run(policy, MON_NOON, ['Internet'], { up: () => false });
    assert.deepEqual(
      life.attempts.map((a) => (a.at - MON_NOON) / MIN),
      [0, 1, 6, 11, 16, 20],
    );
    assert.equal(life.end, 'expired');
    // Rule 7: at the first retry at or after 8 minutes (the failure at 11), once.
    assert.deepEqual(life.notices, [MON_NOON + 11 * MIN]);
  });

  test('rule 8: a 5xx is final for the recipient: bounced on that connector, no failover, no retry', () => {
    const policy = new DeliveryPolicy([connector('A'), connector('B')], DEFAULT_RETRY);
    const life = run(policy, MON_NOON, ['A', 'B'], { up: () => true, refuses: (c) => c === 'A' });
    assert.deepEqual(life.events, ['5xx on A at 0s', 'bounce on A at 0s']);
    const after = run(policy, MON_NOON, ['A', 'B'], {
      up: () => false,
      refuses: (c) => c === 'B',
    });
    assert.deepEqual(after.events, [
      'transient on A at 0s',
      'failover A → B due 0s',
      '5xx on B at 0s',
      'bounce on B at 0s',
    ]);
  });

  test('local delivery (no connector rules) follows the fallback retry settings', () => {
    const policy = new DeliveryPolicy([], {
      intervals: [MIN],
      expireAfter: 3 * MIN,
      delayNotifyAfter: 2 * MIN,
    });
    const life = run(policy, MON_NOON, ['@local'], { up: () => false });
    assert.deepEqual(
      life.attempts.map((a) => (a.at - MON_NOON) / MIN),
      [0, 1, 2, 3],
    );
    assert.equal(life.notices.length, 1);
  });
});

/**
 * mulberry32, as @mailbus/testing's prng: that package cannot be used here
 * (it depends on @mailbus/config, which depends on this one).
 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('delivery policy: properties over random configurations', () => {
  const specs: Array<string | string[]> = [
    'always',
    'every 2h',
    'Mon-Fri 18:00-23:45',
    ['Sat 00:00-24:00', 'Wed 10:00-11:00'],
    'never',
  ];
  for (let seed = 1; seed <= 300; seed++) {
    const r = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const names = ['A', 'B', 'C'].slice(0, 1 + Math.floor(r() * 3));
    const rules = names.map((name) => {
      const expireAfter = (1 + Math.floor(r() * 72)) * HOUR;
      return connector(name, {
        schedule: schedule(pick(specs), pick(['UTC', 'Europe/Berlin', 'America/New_York'])),
        retry: {
          intervals: Array.from(
            { length: 1 + Math.floor(r() * 4) },
            () => (1 + Math.floor(r() * 240)) * MIN,
          ),
          expireAfter,
          delayNotifyAfter: Math.floor(r() * expireAfter * 1.2),
        },
      });
    });
    const arrival = Date.parse('2026-03-20T00:00:00Z') + Math.floor(r() * 30 * 24) * HOUR;
    const upFrom = new Map(
      names.map((n) => [n, r() < 0.3 ? Infinity : arrival + Math.floor(r() * 96) * HOUR]),
    );
    const downUntil = new Map(
      names.map((n) => [n, r() < 0.5 ? arrival + Math.floor(r() * 24) * HOUR : 0]),
    );
    const policy = new DeliveryPolicy(rules, DEFAULT_RETRY);
    const life = run(policy, arrival, names, {
      up: (c, t) => t >= (upFrom.get(c) ?? Infinity),
      linkDown: (c, t) => t < (downUntil.get(c) ?? 0),
    });
    const expireAfter = rules[0]?.retry.expireAfter ?? 0;
    test(`seed ${seed}: never expires early, at most one delay notice, every up candidate tried`, () => {
      if (life.end === 'expired')
        assert.ok(life.endAt >= arrival + expireAfter, life.events.join('\n'));
      assert.ok(life.endAt <= arrival + expireAfter, 'nothing happens after expiry');
      assert.ok(life.notices.length <= 1, life.events.join('\n'));
      for (const u of life.willRetryUntil) assert.equal(u, arrival + expireAfter);
      // A pass that attempted its first candidate and was not ended by delivery or
      // expiry tried every candidate whose link was not marked down.
      const byPass = new Map<number, string[]>();
      for (const a of life.attempts)
        byPass.set(a.pass, [...(byPass.get(a.pass) ?? []), a.connector]);
      for (const [pass, tried] of byPass) {
        const finished = pass < Math.max(...byPass.keys());
        if (!finished) continue;
        for (const n of names.slice(0, -1)) {
          const skippedAsDown = life.events.some(
            (e) => e.startsWith(`failover ${n} →`) && e.includes('(down)'),
          );
          if (
            !tried.includes(n) &&
            !skippedAsDown &&
            !life.events.some((e) => e.includes('expire'))
          )
            assert.fail(`pass ${pass} skipped ${n}:\n${life.events.join('\n')}`);
        }
        const lastName = names.at(-1) as string;
        assert.ok(
          tried.includes(lastName) || life.end === 'expired',
          `pass ${pass} never reached ${lastName}`,
        );
      }
    });
  }
});
