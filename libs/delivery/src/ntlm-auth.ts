import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { authenticateMessage, negotiateMessage, parseChallenge } from './ntlm.js';

/**
 * AUTH NTLM for nodemailer's client (its `customAuth`): `AUTH NTLM` with the
 * NEGOTIATE message as initial response, the server's 334 CHALLENGE, then
 * the AUTHENTICATE message with an NTLMv2 response; 235 is success. Anything
 * else rejects with the server's reply (504 from a server without NTLM), so
 * a delivery never goes on unauthenticated. (nodemailer's own list of offered
 * mechanisms knows only those it implements, so the server's reply decides.)
 */
export async function ntlmAuth(ctx: SMTPConnection.CustomAuthenticationContext): Promise<void> {
  const { user, pass } = ctx.auth.credentials;
  const first = await ctx.sendCommand(`AUTH NTLM ${negotiateMessage().toString('base64')}`);
  if (first.status !== 334) {
    ctx.reject(`AUTH NTLM refused: ${first.response}`);
    return;
  }
  const challenge = parseChallenge(Buffer.from(first.text.trim(), 'base64'));
  if (!challenge) {
    await ctx.sendCommand('*');
    ctx.reject(`AUTH NTLM: the server's challenge is not an NTLM CHALLENGE message`);
    return;
  }
  const answer = authenticateMessage({
    challenge,
    username: user,
    password: pass,
    workstation: hostname().split('.')[0] ?? '',
    clientChallenge: randomBytes(8),
    now: Date.now(),
  });
  const done = await ctx.sendCommand(answer.toString('base64'));
  if (done.status !== 235) {
    ctx.reject(`AUTH NTLM failed: ${done.response}`);
    return;
  }
  ctx.resolve();
}
