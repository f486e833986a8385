/**
 * Bull Board's page links its fonts from fonts.googleapis.com: on an
 * air-gapped admin network the browser waits on that request and logs an
 * error. Drop every stylesheet or script that does not come from this
 * server; the UI's own font stack falls back to the system's sans-serif.
 */
export function offlinePage(html: string): string {
  return html
    .replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, '')
    .replace(/<script\b[^>]*\bsrc="(?:https?:)?\/\/[^"]*"[^>]*>\s*<\/script>\s*/gi, '');
}
