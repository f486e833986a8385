import { freePort, RedisServer, SinkServer } from '@mailbus/testing';
import { MailbusProcess } from './mailbus-process.js';
import { PostfixNextHop } from './postfix-next-hop.js';

/**
 * A `mailbus` process between two private Postfix next hops: `full.test`
 * goes to a Postfix offering every extension, `bare.test` to one that hides
 * the EHLO keywords in `discard`, and `example.org` (senders, so DSNs) to a
 * sink. What the Postfix instances hold shows what mailbus passed on.
 */
export class PostfixPair {
  private constructor(
    readonly redis: RedisServer,
    readonly full: PostfixNextHop,
    readonly bare: PostfixNextHop,
    readonly senderSide: SinkServer,
    readonly gateway: MailbusProcess,
    /** The gateway's SMTP port. */
    readonly smtp: number,
  ) {}

  static async start(o: { discard: string[]; fqdn: string }): Promise<PostfixPair> {
    const started: Array<{ close(): Promise<unknown> }> = [];
    try {
      const redis = await RedisServer.start();
      started.push(redis);
      const senderSide = await SinkServer.start();
      started.push(senderSide);
      const [full, bare] = await Promise.all([
        PostfixNextHop.start(),
        PostfixNextHop.start({ discard: o.discard }),
      ]);
      started.push(full, bare);
      const smtp = await freePort();
      const gateway = await MailbusProcess.start(
        `
redis: { url: "${redis.url}" }
virtualServers:
  - { name: hub, listen: "127.0.0.1:${smtp}", fqdn: ${o.fqdn}, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Full, smartHosts: ["[127.0.0.1]:${full.port}"], bridgeheads: [hub], addressSpaces: [{ domain: full.test }] }
  - { name: Bare, smartHosts: ["[127.0.0.1]:${bare.port}"], bridgeheads: [hub], addressSpaces: [{ domain: bare.test }] }
  - { name: Senders, smartHosts: ["[127.0.0.1]:${senderSide.port}"], bridgeheads: [hub], addressSpaces: [{ domain: example.org }] }
`,
        { listening: [`127.0.0.1:${smtp}`] },
      );
      return new PostfixPair(redis, full, bare, senderSide, gateway, smtp);
    } catch (err) {
      for (const s of started.reverse()) await s.close().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.gateway.close();
    await Promise.all([this.full.close(), this.bare.close(), this.senderSide.close()]);
    await this.redis.close();
  }
}
