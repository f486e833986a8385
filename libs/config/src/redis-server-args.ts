/**
 * The redis-server settings of every Redis mailbus starts itself (the
 * embedded default, the tests, bench/) and that docs/deployment.md asks of
 * an operator's Redis: no eviction (a queue must not lose keys), AOF with an
 * fsync before each reply (`durability: fsync`), no RDB snapshots, and hashes
 * kept as compact listpacks up to 8 KB values (a job's hash and the hash of a
 * message up to 8 KB: ~0.6 KB less per queued 5 KB message). Later arguments
 * override these (`--appendonly no` for a memory-only Redis).
 */
export const REDIS_SERVER_ARGS: readonly string[] = [
  '--save',
  '',
  '--appendonly',
  'yes',
  '--appendfsync',
  'always',
  '--maxmemory-policy',
  'noeviction',
  '--hash-max-listpack-value',
  '8192',
];
