import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Credentials the admin accepts; at least one must be set. */
export interface AdminCredentials {
  token?: string;
  basicAuth?: { username: string; password: string };
}

/** How a request proved who it is, for the audit log. */
export type AuthResult =
  { ok: true; user: string; via: 'bearer' | 'basic' | 'cookie' | 'query' } | { ok: false };

export const SESSION_COOKIE = 'mailbus_admin';

function same(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Checks admin requests: `Authorization: Bearer <token>`, HTTP Basic, or the
 * session cookie a browser gets after opening a page once with `?token=`.
 * The cookie holds an HMAC of the token, never the token, and is the same on
 * every admin replica that shares the token.
 */
export class AdminAuth {
  private readonly session: string | undefined;

  constructor(private readonly credentials: AdminCredentials) {
    this.session = credentials.token
      ? createHmac('sha256', credentials.token)
          .update('mailbus admin session v1')
          .digest('base64url')
      : undefined;
  }

  get basicEnabled(): boolean {
    return this.credentials.basicAuth !== undefined;
  }

  /** The value of the session cookie (undefined without a token). */
  get sessionValue(): string | undefined {
    return this.session;
  }

  /** Whether `?token=` matches the configured token. */
  queryToken(token: string | undefined): boolean {
    const t = this.credentials.token;
    return t !== undefined && token !== undefined && same(token, t);
  }

  check(authorization: string | undefined, cookie: string | undefined): AuthResult {
    const { token, basicAuth } = this.credentials;
    if (authorization) {
      const sp = authorization.indexOf(' ');
      const scheme = (sp > 0 ? authorization.slice(0, sp) : authorization).toLowerCase();
      const value = sp > 0 ? authorization.slice(sp + 1).trim() : '';
      if (scheme === 'bearer' && token !== undefined && same(value, token))
        return { ok: true, user: 'token', via: 'bearer' };
      if (scheme === 'basic' && basicAuth) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon >= 0) {
          const user = decoded.slice(0, colon);
          const pass = decoded.slice(colon + 1);
          // Evaluate both so a wrong user name takes as long as a wrong password.
          const userOk = same(user, basicAuth.username);
          const passOk = same(pass, basicAuth.password);
          if (userOk && passOk) return { ok: true, user, via: 'basic' };
        }
      }
    }
    const c = cookieValue(cookie, SESSION_COOKIE);
    if (c !== undefined && this.session !== undefined && same(c, this.session))
      return { ok: true, user: 'token', via: 'cookie' };
    return { ok: false };
  }
}
