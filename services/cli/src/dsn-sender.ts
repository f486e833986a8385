import { createDsnSender as bridgeheadDsnSender, type DsnRequest } from '@mailbus/bridgehead';
import type { Config } from '@mailbus/config';
import type { MailQueue } from '@mailbus/queue';

/** The DSN sender the gateway wires into its bridgehead: reports as the first virtual server. */
export function createDsnSender(
  config: Config,
): (req: DsnRequest, queue: MailQueue) => Promise<void> {
  const reporter = config.virtualServers[0];
  if (!reporter) return async () => undefined;
  return bridgeheadDsnSender(config, reporter);
}
