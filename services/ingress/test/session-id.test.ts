import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { installPooledSessionIds, newSessionId } from '../src/session-id.js';

describe('pooled SMTP session ids', () => {
  test('16 base-32 characters, unique over 100,000 ids', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = newSessionId();
      assert.match(id, /^[0-9a-v]{16}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 100_000);
  });

  test('smtp-server sessions get pooled ids and still greet and talk', async () => {
    installPooledSessionIds();
    const ids: string[] = [];
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onConnect(session, cb) {
        ids.push(session.id);
        cb();
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as { port: number }).port;
    try {
      for (let i = 0; i < 3; i++) {
        const text = await new Promise<string>((resolve, reject) => {
          const s = connect(port, '127.0.0.1');
          let got = '';
          let step = 0;
          s.on('data', (d) => {
            got += d.toString();
            if (step === 0 && /^220 /m.test(got)) {
              step = 1;
              s.write('EHLO t.example\r\n');
            } else if (step === 1 && /^250 /m.test(got)) {
              step = 2;
              s.end('QUIT\r\n');
            }
          });
          s.on('close', () => resolve(got));
          s.on('error', reject);
        });
        assert.match(text, /^220 /);
        assert.match(text, /^250[ -]/m);
      }
      assert.equal(ids.length, 3);
      for (const id of ids) assert.match(id, /^[0-9a-v]{16}$/);
      assert.equal(new Set(ids).size, 3);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
