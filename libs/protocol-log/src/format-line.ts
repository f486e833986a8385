import type { ProtocolLogField } from '@mailbus/config';
import type { ProtocolLogEntry } from './protocol-log-entry.js';
import { escapeW3CValue } from './w3c-escape.js';

/** Values the writer supplies to every line. */
export interface LineContext {
  sitename: string;
  computerName: string;
}

const two = (n: number): string => String(n).padStart(2, '0');

// Lines come many per second: format each second's date and time once.
let cachedSecond = Number.NaN;
let cachedDate = '';
let cachedTime = '';

function stamp(time: number): void {
  const second = Math.floor(time / 1000);
  if (second === cachedSecond) return;
  const d = new Date(second * 1000);
  cachedDate = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  cachedTime = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  cachedSecond = second;
}

/** `yyyy-mm-dd` in UTC. */
export function w3cDate(time: number): string {
  stamp(time);
  return cachedDate;
}

/** `hh:mm:ss` in UTC. */
export function w3cTime(time: number): string {
  stamp(time);
  return cachedTime;
}

function fieldValue(
  field: ProtocolLogField,
  e: ProtocolLogEntry,
  time: number,
  ctx: LineContext,
): string {
  switch (field) {
    case 'date':
      return w3cDate(time);
    case 'time':
      return w3cTime(time);
    case 'c-ip':
      return escapeW3CValue(e.cIp);
    case 'cs-username':
      return escapeW3CValue(e.csUsername);
    case 's-sitename':
      return escapeW3CValue(ctx.sitename);
    case 's-computername':
      return escapeW3CValue(ctx.computerName);
    case 's-ip':
      return escapeW3CValue(e.sIp);
    case 's-port':
      return escapeW3CValue(e.sPort);
    case 'cs-method':
      return escapeW3CValue(e.csMethod);
    case 'cs-uri-stem':
      return escapeW3CValue(e.csUriStem);
    case 'cs-uri-query':
      return escapeW3CValue(e.csUriQuery);
    case 'sc-status':
      return escapeW3CValue(e.scStatus);
    case 'sc-win32-status':
      return escapeW3CValue(e.scWin32Status);
    case 'sc-bytes':
      return escapeW3CValue(e.scBytes);
    case 'cs-bytes':
      return escapeW3CValue(e.csBytes);
    case 'time-taken':
      return escapeW3CValue(e.timeTaken);
    case 'cs-version':
      return escapeW3CValue(e.csVersion ?? 'SMTP');
    case 'cs-host':
      return escapeW3CValue(e.csHost);
    case 'cs(User-Agent)':
      return escapeW3CValue(e.csUserAgent);
    case 'cs(Cookie)':
      return escapeW3CValue(e.csCookie);
    case 'cs(Referer)':
      return escapeW3CValue(e.csReferer);
  }
}

/** One data line, without its line ending: the values of `fields`, space-separated. */
export function formatLine(
  fields: readonly ProtocolLogField[],
  entry: ProtocolLogEntry,
  time: number,
  ctx: LineContext,
): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as ProtocolLogField;
    line += (i === 0 ? '' : ' ') + fieldValue(field, entry, time, ctx);
  }
  return line;
}

/** The directive block every file starts with, and that is repeated on restart or field change. */
export function formatDirectives(
  software: string,
  fields: readonly ProtocolLogField[],
  time: number,
): string {
  return (
    `#Software: ${software}\r\n` +
    `#Version: 1.0\r\n` +
    `#Date: ${w3cDate(time)} ${w3cTime(time)}\r\n` +
    `#Fields: ${fields.join(' ')}\r\n`
  );
}
