/** Whether a request comes from a browser navigating to a page (not an API client). */
export function wantsHtml(method: string, accept: string | undefined): boolean {
  return method === 'GET' && accept !== undefined && /\btext\/html\b/.test(accept);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * What a browser shows instead of a JSON 401: a page that says what to do,
 * with a token form (GET `?token=`, which the admin turns into a session
 * cookie and removes from the address bar). Self-contained: no outside assets.
 */
export function loginPage(opts: { organization: string; basic: boolean; token: boolean }): string {
  const how = [
    opts.token
      ? '<form method="get"><label>Admin token <input type="password" name="token" autofocus required></label> <button type="submit">Sign in</button></form>'
      : '',
    opts.basic
      ? '<p>Or sign in with the admin user name and password when the browser asks (reload the page).</p>'
      : '',
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mailbus admin · sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
input,button{font:inherit;padding:.3rem .5rem}</style></head>
<body><h1>mailbus admin · ${escapeHtml(opts.organization)}</h1>
<p>Sign in required (MAILBUS_ERR_ADMIN_UNAUTHORIZED). The token is the value of the environment
variable named by <code>admin.tokenEnv</code>; <code>npm start</code> prints a sign-in link for its run.</p>
${how}
</body></html>
`;
}
