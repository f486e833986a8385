import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_ROLES, Gateway, type Role } from '../gateway.js';
import { knownVirtualServer, readConfig } from '../read-config.js';
import { UsageError } from '../usage-error.js';
import { dataDirOf, readRunFile, writeRunFile } from '../run-file.js';
import { plural } from '../plural.js';
import { createDsnSender } from '../dsn-sender.js';
import { startSdkIfConfigured } from '../telemetry-sdk.js';
import { bufferedOutput, createLogger, type LogFormat } from '@mailbus/telemetry';
import { parseListen, siteConfig } from '@mailbus/config';

/** `--log-format json|human`; without it, human lines on a terminal and JSON anywhere else. */
export function logFormat(flag: string | undefined, terminal: boolean): LogFormat {
  if (flag === undefined) return terminal ? 'human' : 'json';
  if (flag === 'json' || flag === 'human') return flag;
  throw new UsageError(`--log-format: must be json or human, not "${flag}"`);
}

/** `mailbus start [--config FILE] [--role ingress,bridgehead,admin] [--virtual-server NAME]` */
export async function startCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      role: { type: 'string' },
      'virtual-server': { type: 'string' },
      'log-format': { type: 'string' },
      'data-dir': { type: 'string' },
      'http-listen': { type: 'string' },
    },
    strict: true,
  });
  const format = logFormat(values['log-format'], process.stdout.isTTY === true);
  const roles = values.role ? values.role.split(',').map((r) => r.trim()) : [...ALL_ROLES];
  for (const r of roles)
    if (!ALL_ROLES.includes(r as Role))
      throw new UsageError(`--role: unknown role "${r}" (roles: ${ALL_ROLES.join(', ')})`);
  // A node of one site (routing group with its own redis) runs on that site's bus.
  // Not the run file's config: that is another start's.
  const path = values.config ?? env.MAILBUS_CONFIG ?? 'mailbus.yaml';
  const whole = readConfig(path, env);
  if (values['virtual-server'] !== undefined) knownVirtualServer(whole, values['virtual-server']);
  const config = siteConfig(whole, values['virtual-server']);
  // Tracing only when OTEL_EXPORTER_OTLP_ENDPOINT is set; started before any span is made.
  const sdk = await startSdkIfConfigured(`mailbus-${roles.join('-')}`, env);
  // Log lines buffered (a write per line was a system call per message); flushed
  // before anything else goes to stdout, every 200 ms and at exit.
  const logs = bufferedOutput();
  const logger = createLogger({
    name: 'mailbus',
    level: config.logging.level,
    categories: config.logging.categories,
    destination: logs.destination,
    format,
  });
  const dataDir = dataDirOf(values['data-dir'], env);
  const httpListen = values['http-listen'] || env.MAILBUS_HTTP_LISTEN || undefined;
  if (httpListen && !parseListen(httpListen))
    throw new UsageError(`--http-listen: "${httpListen}" is not HOST:PORT`);
  const embedded = !config.redis.url && !config.redis.sentinel && !config.redis.cluster;
  const gateway = new Gateway({
    config,
    logger,
    roles: roles as Role[],
    env,
    sendDsn: createDsnSender(config),
    dataDir,
    ...(httpListen ? { httpListen } : {}),
    // The embedded default (no Redis configured, every role): a token file in
    // the data directory. Any other start needs a configured admin secret.
    ...(embedded && !values.role ? { adminTokenFile: join(dataDir, 'admin-token') } : {}),
    ...(values['virtual-server'] ? { virtualServer: values['virtual-server'] } : {}),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.logger.info({ signal }, 'stopping: no new sessions, finishing work in flight');
    gateway
      .close()
      .then(() => sdk.shutdown())
      .then(
        () => {
          logs.flush();
          const n = gateway.queuedAtStop;
          if (gateway.embeddedRedis && n !== undefined)
            out(
              n === 0
                ? `mailbus stopped: no messages queued (${gateway.embeddedRedis.dir})`
                : `mailbus stopped: ${plural(n, 'message')} still queued in ${gateway.embeddedRedis.dir}, delivered on the next start`,
            );
          process.exit(0);
        },
        (e: unknown) => {
          gateway.logger.error({ err: e }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP (a closed terminal, a habit of reloading daemons) must not kill the
  // process and orphan the embedded Redis: the config is read only at start.
  process.on('SIGHUP', () =>
    gateway.logger.warn(
      { signal: 'SIGHUP' },
      'SIGHUP ignored: mailbus reads its config only at start; restart it to apply a change',
    ),
  );
  try {
    await gateway.start();
  } catch (e) {
    // Stopped by a signal while starting: stop() ends the process once closed.
    if (stopping) return await new Promise<never>(() => undefined);
    await gateway.close().catch(() => undefined);
    await sdk.shutdown();
    throw e;
  }
  if (gateway.embeddedRedis) {
    // The other commands' default config, when no ./mailbus.yaml is beside them.
    const dir = gateway.embeddedRedis.dir;
    const run = readRunFile(dir);
    if (run) writeRunFile(dir, { ...run, config: resolve(path) });
  }
  logs.flush();
  out(
    `mailbus running: roles ${roles.join(', ')}; Redis ${gateway.redisUrl}${gateway.embeddedRedis ? ' (embedded)' : ''}`,
  );
  if (gateway.embeddedRedis)
    out(
      `  data  ${gateway.embeddedRedis.dir} (queued mail is kept across restarts; other mailbus commands find this Redis there)`,
    );
  for (const l of gateway.listening())
    out(`  SMTP  virtual server ${l.virtualServer} listening on ${l.host}:${l.port}`);
  if (gateway.admin) {
    const a = gateway.admin.address();
    const base = `http://${a ? `${a.host}:${a.port}` : config.admin.listen}`;
    out(`  admin ${base}/queues (Bull Board), ${base}/api, ${base}/metrics`);
    if (gateway.adminTokenFile) {
      out(
        `  admin token in ${gateway.adminTokenFile} (set ${config.admin.tokenEnv ?? 'admin.tokenEnv'} to choose one); open ${base}/queues?token=<that token> once`,
      );
    }
  } else if (gateway.nodeHttp) {
    const a = gateway.nodeHttp.address();
    out(`  health and metrics http://${a ? `${a.host}:${a.port}` : config.admin.listen}/metrics`);
  }
  await new Promise<never>(() => undefined);
  return 0;
}
