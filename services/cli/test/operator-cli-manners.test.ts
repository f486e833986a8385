import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, makeMessage, sendMail } from '@mailbus/testing';
import { mailbus, MailbusProcess, workDir } from './mailbus-process.js';

const COMMANDS = ['start', 'config', 'route', 'user', 'track', 'connector', 'queue', 'sink'];

describe('mailbus CLI manners', () => {
  test('every command and subcommand has --help: its usage on stdout, exit 0', () => {
    const cases = [
      ...COMMANDS.map((c) => [c, '--help']),
      ['config', 'check', '--help'],
      ['user', 'add', '-h'],
      ['queue', 'list', '--help'],
      ['queue', 'delete', '--help'],
      ['connector', 'status', '--help'],
      ['connector', 'freeze', '-h'],
      ['help', 'route'],
    ];
    for (const args of cases) {
      const r = mailbus(args);
      const cmd = args[0] === 'help' ? args[1] : args[0];
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', args.join(' '));
      assert.match(r.stdout, new RegExp(`^usage: mailbus ${cmd} `), args.join(' '));
    }
    const top = mailbus(['--help']);
    assert.equal(top.status, 0);
    for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'), c);
  });

  test('a usage error is one line naming what is wrong and the hint `mailbus <command> --help`, exit 2', () => {
    const { dir, config } = workDir(`
virtualServers:
  - { name: default, listen: "127.0.0.1:2525", fqdn: mail.manners.test }
  - { name: edge, listen: "127.0.0.1:2526", fqdn: edge.manners.test }
connectors:
  - { name: Internet, dns: true, bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
`);
    const cases: Array<[string[], RegExp]> = [
      [
        ['route', '--bogus'],
        /^mailbus route: unknown option --bogus \(see `mailbus route --help`\)$/,
      ],
      [['route', '--to', 'x@y.example'], /^mailbus route: --from ADDR is required/],
      [['route', '--from'], /^mailbus route: --from needs a value/],
      [
        ['route', '--from', 'a@b.example', '--to', 'x@y.example', '--virtual-server', 'nowhere'],
        /^mailbus route: --virtual-server: no virtual server "nowhere" in the config \(known: default, edge\) \(see `mailbus route --help`\)$/,
      ],
      [['queue'], /^mailbus queue: a subcommand is required \(list, delete, move, move-all\)/],
      [['queue', 'frob'], /^mailbus queue: unknown subcommand "frob"/],
      [['queue', 'delete', 'Internet'], /^mailbus queue: delete needs CONNECTOR ID/],
      [['queue', 'move', 'Internet', 'X'], /^mailbus queue: move needs --to CONNECTOR/],
      [['queue', 'list', '--limit', 'many'], /^mailbus queue: --limit must be a whole number/],
      [
        ['queue', 'list', '--offset', '-1'],
        /^mailbus queue: --offset: a value that starts with "-" is written --offset=VALUE/,
      ],
      [['connector', 'freeze'], /^mailbus connector: freeze needs NAME/],
      [['config', 'lint'], /^mailbus config: unknown subcommand "lint"/],
      [['user', 'add'], /^mailbus user: add needs --file FILE and --user NAME/],
      [['track'], /^mailbus track: name a queue id/],
      [['start', '--role', 'mailman'], /^mailbus start: --role: unknown role "mailman"/],
      [
        ['start', '--virtual-server', 'nowhere'],
        /^mailbus start: --virtual-server: no virtual server "nowhere" in the config \(known: default, edge\)/,
      ],
      [['frobnicate'], /^mailbus: unknown command "frobnicate" \(see `mailbus --help`\)$/],
    ];
    for (const [args, re] of cases) {
      const r = mailbus(args, { cwd: dir, env: { MAILBUS_CONFIG: config } });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line for ${args.join(' ')}:\n${r.stderr}`);
      assert.match(lines[0] ?? '', re);
      assert.match(lines[0] ?? '', /\(see `mailbus (\w+ )?--help`\)$/);
      assert.doesNotMatch(r.stderr, /mailbus: mailbus|usage:/);
    }
  });

  test(
    'queue operations: `queue list` with no connector lists every connector (mailq), plurals are right, an ID is the 250 queue id or the job id, each change is logged with the OS user',
    { timeout: 120_000 },
    async () => {
      const [smtp, http, dead] = await Promise.all([freePort(), freePort(), freePort()]);
      const { dir } = workDir(`
admin: { listen: "127.0.0.1:${http}" }
virtualServers:
  - { name: default, listen: "127.0.0.1:${smtp}", fqdn: mail.manners.test, relay: { allow: [127.0.0.0/8] } }
connectors:
  - { name: Internet, smartHosts: ["[127.0.0.1]:${dead}"], bridgeheads: [default], addressSpaces: [{ domain: "*" }] }
  - { name: Other, smartHosts: ["[127.0.0.1]:${dead}"], bridgeheads: [default], addressSpaces: [{ domain: other.example }] }
`);
      const gw = MailbusProcess.spawn(['start'], { cwd: dir });
      const me = userInfo().username;
      // No --config, no --redis: ./mailbus.yaml and the running start's Redis (run.json).
      const run = (args: string[]) => {
        const r = mailbus(args, { cwd: dir });
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        return r;
      };
      const auditOf = (stderr: string) =>
        stderr
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      try {
        await gw.waitForOutput(`listening on 127.0.0.1:${smtp}`);
        const frozen = run(['connector', 'freeze', 'internet']);
        assert.equal(
          frozen.stdout,
          'Internet: frozen (mail keeps queueing; unfreeze to deliver)\n',
        );
        assert.deepEqual(
          auditOf(frozen.stderr).map((l) => [
            l.msg,
            l.action,
            l.user,
            l.via,
            l.connector,
            l.category,
          ]),
          [['admin freeze', 'freeze', me, 'cli', 'Internet', 'queue']],
        );
        run(['connector', 'freeze', 'Other']);
        assert.equal(run(['queue', 'list']).stdout, '-- 0 messages\n');

        const sent = await sendMail({
          port: smtp,
          from: 'a@sender.test',
          to: ['b@far.example'],
          raw: makeMessage({ from: 'a@sender.test', to: 'b@far.example', subject: 'manners' }),
        });
        const queueId = /queued as (\S+)/.exec(sent.response)?.[1];
        assert.ok(queueId, sent.response);

        const all = run(['queue', 'list']).stdout.trim().split('\n');
        assert.equal(all.length, 2, all.join('\n'));
        assert.match(
          all[0] ?? '',
          new RegExp(
            `^Internet +${queueId}\\.\\S+ +waiting from <a@sender\\.test> to b@far\\.example`,
          ),
        );
        assert.equal(all[1], '-- 1 message');
        const jobId = /^Internet +(\S+)/.exec(all[0] ?? '')?.[1] ?? '';

        // From elsewhere, with only --data-dir: the config and Redis of the running start.
        const elsewhere = mailbus(
          ['queue', 'list', '--json', '--data-dir', join(dir, '.mailbus')],
          {
            cwd: mkdtempSync(join(tmpdir(), 'mailbus-elsewhere-')),
          },
        );
        assert.equal(elsewhere.status, 0, elsewhere.stderr);
        assert.deepEqual(
          (JSON.parse(elsewhere.stdout) as Array<{ jobId: string; connector: string }>).map((m) => [
            m.connector,
            m.jobId,
          ]),
          [['Internet', jobId]],
        );

        // The queue id of the 250 reply names the message.
        const moved = run(['queue', 'move', 'Internet', queueId, '--to', 'Other']);
        assert.equal(moved.stdout, `moved ${jobId} (queue id ${queueId}) to Other\n`);
        assert.deepEqual(
          auditOf(moved.stderr).map((l) => [
            l.action,
            l.user,
            l.connector,
            l.to,
            l.jobId,
            l.message_id,
          ]),
          [['move', me, 'Internet', 'Other', jobId, queueId]],
        );
        const other = JSON.parse(run(['queue', 'list', 'Other', '--json']).stdout) as Array<{
          jobId: string;
        }>;
        assert.equal(other.length, 1);
        const movedJob = other[0]?.jobId ?? '';

        const back = run(['queue', 'move-all', 'Other', '--to', 'Internet']);
        assert.equal(back.stdout, 'moved 1 message from Other to Internet\n');
        assert.equal(auditOf(back.stderr)[0]?.action, 'move-queue');
        const retried = run(['connector', 'retry', 'Internet']);
        // Frozen, the message waits: nothing was delayed to release.
        assert.equal(retried.stdout, 'Internet: 0 messages released for delivery now\n');

        const [line] = run(['queue', 'list', 'Internet']).stdout.trim().split('\n');
        const lastJob = /^(\S+)/.exec(line ?? '')?.[1] ?? '';
        assert.notEqual(lastJob, movedJob);
        // The BullMQ job id works as well.
        const deleted = run(['queue', 'delete', 'Internet', lastJob]);
        assert.equal(deleted.stdout, `deleted ${lastJob} (queue id ${queueId}), no DSN\n`);
        assert.deepEqual(
          auditOf(deleted.stderr).map((l) => [l.action, l.user, l.jobId, l.message_id, l.dsn]),
          [['delete', me, lastJob, queueId, false]],
        );
        assert.equal(run(['queue', 'list']).stdout, '-- 0 messages\n');
        const unknown = mailbus(['queue', 'delete', 'Internet', queueId], { cwd: dir });
        assert.equal(unknown.status, 1);
        assert.match(unknown.stderr, /MAILBUS_ERR_UNKNOWN_JOB/);
      } finally {
        await gw.stop();
      }
    },
  );
});
