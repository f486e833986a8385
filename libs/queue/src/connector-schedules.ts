import type { Config, Connector } from '@mailbus/config';
import { parseSchedule, type Schedule } from '@mailbus/schedule';

interface Parsed {
  normal: Schedule;
  oversize?: { thresholdBytes: number; schedule: Schedule };
}

/**
 * Which schedule applies to a message on a connector (the oversize one above
 * the threshold), and how long its job must wait before it may be delivered.
 */
export class ConnectorSchedules {
  private readonly parsed = new Map<string, Parsed>();

  constructor(config: Config) {
    for (const c of config.connectors) this.parsed.set(c.name, parse(c));
  }

  /** The schedule that governs a message of `size` bytes on `connector`; undefined = always. */
  scheduleFor(connector: string, size: number): Schedule | undefined {
    const p = this.parsed.get(connector);
    if (!p) return undefined;
    if (p.oversize && size > p.oversize.thresholdBytes) return p.oversize.schedule;
    return p.normal;
  }

  /** Milliseconds to wait from `now` until the schedule opens (0 = open now; Infinity = never). */
  delay(connector: string, size: number, now: number): number {
    const s = this.scheduleFor(connector, size);
    if (!s || s.isOpen(now)) return 0;
    return s.nextOpen(now) - now;
  }
}

function parse(c: Connector): Parsed {
  const tz = c.delivery.timezone;
  const n = parseSchedule(c.delivery.schedule, tz);
  if (!n.ok) throw new Error(`connector ${c.name}: ${n.reason}`);
  const out: Parsed = { normal: n.schedule };
  if (c.delivery.oversize) {
    const o = parseSchedule(c.delivery.oversize.schedule, tz);
    if (!o.ok) throw new Error(`connector ${c.name}: ${o.reason}`);
    out.oversize = { thresholdBytes: c.delivery.oversize.thresholdKB * 1024, schedule: o.schedule };
  }
  return out;
}
