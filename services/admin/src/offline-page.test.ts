import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offlinePage } from './offline-page.js';

test('remote stylesheets and scripts are dropped, the page own assets kept', () => {
  const html = [
    '<head><link rel="icon" href="static/favicon.svg">',
    '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans" rel="stylesheet">',
    '<link href="//cdn.example/x.css" rel="stylesheet">',
    '<link href="static/css/main.css" rel="stylesheet"></head>',
    '<script src="https://cdn.example/a.js"></script><script defer src="static/js/main.js"></script>',
  ].join('\n');
  const out = offlinePage(html);
  assert.doesNotMatch(out, /googleapis|cdn\.example/);
  assert.match(out, /static\/favicon\.svg/);
  assert.match(out, /static\/css\/main\.css/);
  assert.match(out, /static\/js\/main\.js/);
});
