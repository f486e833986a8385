#!/usr/bin/env node
// The `mailbus` bin. Committed (not built) so that `npm ci` links it into
// node_modules/.bin before `npm run build` has produced dist/: npm links a
// workspace bin only when its target exists at install time.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('mailbus: not built yet: run `npm run build` first\n');
  process.exit(1);
}
await import(main.href);
