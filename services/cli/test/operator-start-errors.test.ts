import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, RedisCluster, RedisServer } from '@mailbus/testing';
import { mailbus, MailbusProcess, workDir } from './mailbus-process.js';

/** docs/errors.md's start-time codes, each met as an operator meets it: the `mailbus` command's exit status and output. */

function config(smtp: number, http: number, redisUrl?: string, redisYaml?: string): string {
  return `
${redisUrl ? `redis: { url: "${redisUrl}" }` : (redisYaml ?? '')}
admin: { listen: "127.0.0.1:${http}", tokenEnv: MAILBUS_TEST_TOKEN }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.errors.test }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:9"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`;
}

const env = { MAILBUS_TEST_TOKEN: 'secret' };

describe('start-time error codes through the mailbus command', () => {
  test('MAILBUS_ERR_CONFIG_YAML: a file that is not YAML is reported as `line N: <reason> [CODE]` by config check and start, exit 1', () => {
    const { dir, config: file } = workDir(
      'organization: x\nvirtualServers:\n  - name: a\n    fqdn: [b\nconnectors: []\n',
    );
    for (const args of [
      ['config', 'check', '--config', file],
      ['start', '--config', file],
    ]) {
      const r = mailbus(args, { cwd: dir, env, timeoutMs: 15_000 });
      assert.equal(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^line \d+: .+ \[MAILBUS_ERR_CONFIG_YAML\]\n$/);
    }
  });

  test('MAILBUS_ERR_REDIS_EVICTION: a Redis whose maxmemory-policy is not noeviction is refused, exit 1', async () => {
    const redis = await RedisServer.start({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      const { dir, config: file } = workDir(config(await freePort(), await freePort(), redis.url));
      const r = mailbus(['start', '--config', file], { cwd: dir, env, timeoutMs: 20_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^MAILBUS_ERR_REDIS_EVICTION: Redis maxmemory-policy is "allkeys-lru"; it must be "noeviction"/m,
      );
    } finally {
      await redis.close();
    }
  });

  test('MAILBUS_ERR_REDIS_PERSISTENCE: durability fsync (the default) on a Redis without appendonly is refused, exit 1', async () => {
    const redis = await RedisServer.start({ aof: false });
    try {
      const { dir, config: file } = workDir(config(await freePort(), await freePort(), redis.url));
      const r = mailbus(['start', '--config', file], { cwd: dir, env, timeoutMs: 20_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^MAILBUS_ERR_REDIS_PERSISTENCE: redis\.durability is fsync but appendonly is "no"/m,
      );
    } finally {
      await redis.close();
    }
  });

  test('MAILBUS_ERR_REDIS_CLUSTER: a Redis Cluster with a slot no master serves is refused, naming cluster_state, exit 1', async () => {
    const cluster = await RedisCluster.start({ masters: 3, timeoutMs: 30_000 });
    try {
      // Slot 0 unassigned on every node: the cluster says cluster_state:fail.
      for (const port of cluster.ports)
        await cluster.withNode(port, (c) => c.call('CLUSTER', 'DELSLOTS', '0'));
      const seeds = cluster.seeds.map((s) => `"${s}"`).join(', ');
      const { dir, config: file } = workDir(
        config(
          await freePort(),
          await freePort(),
          undefined,
          `redis: { cluster: { nodes: [${seeds}] } }`,
        ),
      );
      const r = mailbus(['start', '--config', file], { cwd: dir, env, timeoutMs: 30_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^MAILBUS_ERR_REDIS_CLUSTER: cluster_state is "fail" \(seed 127\.0\.0\.1:\d+\); every slot must be served by a master/m,
      );
    } finally {
      await cluster.close();
    }
  });

  test('MAILBUS_ERR_LISTEN: a virtual server whose listen address is in use stops the start, naming it, exit 1', async () => {
    const redis = await RedisServer.start();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { dir, config: file } = workDir(config(port, await freePort(), redis.url));
      const r = mailbus(['start', '--config', file], { cwd: dir, env, timeoutMs: 20_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^MAILBUS_ERR_LISTEN: virtual server default cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`,
          'm',
        ),
      );
      // deployment.md: the admin role refuses a taken HTTP port; a bridgehead runs on, warning with the flag to use.
      const { dir: d2, config: f2 } = workDir(config(await freePort(), port, redis.url));
      const admin = mailbus(['start', '--config', f2, '--role', 'admin'], {
        cwd: d2,
        env,
        timeoutMs: 20_000,
      });
      assert.equal(admin.status, 1, admin.stdout + admin.stderr);
      assert.match(
        admin.stderr,
        new RegExp(
          `^MAILBUS_ERR_LISTEN: admin cannot listen on 127\\.0\\.0\\.1:${port}: .*--http-listen`,
          'm',
        ),
      );
      const bridgehead = MailbusProcess.spawn(['start', '--config', f2, '--role', 'bridgehead'], {
        cwd: d2,
        env,
      });
      try {
        await bridgehead.waitForOutput('mailbus running');
        assert.match(
          bridgehead.output,
          new RegExp(
            `health and metrics endpoint not started: 127\\.0\\.0\\.1:${port}: .*--http-listen HOST:PORT or MAILBUS_HTTP_LISTEN`,
          ),
        );
        assert.equal(bridgehead.child.exitCode, null);
      } finally {
        await bridgehead.stop();
      }
    } finally {
      taken.close();
      await redis.close();
    }
  });

  test('MAILBUS_ERR_DATA_DIR_IN_USE: a second start on the data directory of a running one is refused, naming its pid, exit 1; MAILBUS_DATA_DIR chooses the directory, --data-dir wins over it', async () => {
    const [smtp, http] = [await freePort(), await freePort()];
    const { dir, config: file } = workDir(config(smtp, http));
    const state = join(dir, 'state');
    const first = MailbusProcess.spawn(['start', '--config', file], {
      cwd: dir,
      env: { ...env, MAILBUS_DATA_DIR: state },
    });
    try {
      await first.waitForOutput('mailbus running');
      // The banner: the data directory, where SMTP listens, where the admin pages are.
      assert.ok(first.output.includes(`data  ${state}`), first.output);
      assert.ok(first.output.includes(`127.0.0.1:${smtp}`), first.output);
      assert.ok(first.output.includes(`http://127.0.0.1:${http}`), first.output);
      assert.ok(existsSync(join(state, 'run.json')), 'the run file is in MAILBUS_DATA_DIR');
      const r = mailbus(['start', '--config', file, '--data-dir', state], {
        cwd: dir,
        env: { ...env, MAILBUS_DATA_DIR: join(dir, 'elsewhere') },
        timeoutMs: 20_000,
      });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^MAILBUS_ERR_DATA_DIR_IN_USE: ${state.replace(/[.]/g, '\\.')} is the data directory of a running mailbus \\(pid ${first.child.pid}\\)`,
          'm',
        ),
      );
      // The running one is untouched.
      assert.equal(first.child.exitCode, null);
    } finally {
      await first.stop();
    }
  });
});
