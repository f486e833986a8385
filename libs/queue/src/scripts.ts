import type { RedisClient } from './redis-connection.js';

/** A Lua script mailbus runs on Redis; `name` is unique among mailbus's and BullMQ's commands. */
export interface ScriptDef {
  name: string;
  lua: string;
}

export type ScriptArg = string | Buffer | number;

type ScriptCommand = (numberOfKeys: number, ...args: ScriptArg[]) => Promise<unknown>;

const defined = new WeakMap<object, Set<string>>();

function command(redis: RedisClient, def: ScriptDef): ScriptCommand {
  let names = defined.get(redis);
  if (!names) {
    names = new Set();
    defined.set(redis, names);
  }
  if (!names.has(def.name)) {
    // No numberOfKeys: the key count is the first argument of every call.
    redis.defineCommand(def.name, { lua: def.lua });
    names.add(def.name);
  }
  const fn = (redis as unknown as Record<string, unknown>)[def.name];
  if (typeof fn !== 'function') throw new Error(`Redis script ${def.name} is not defined`);
  return fn as ScriptCommand;
}

/**
 * Runs a script by its SHA1 (EVALSHA, loaded on first use per connection):
 * unlike EVAL, neither the script text on the wire nor Redis hashing it on
 * every call (the bench measured 8 µs of Redis time per EVAL of our small
 * scripts, most of it that).
 */
export function runScript(
  redis: RedisClient,
  def: ScriptDef,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  return command(redis, def).call(redis, keys.length, ...keys, ...args);
}
