import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh self-signed certificate for `name` (openssl), as PEM strings and file paths. */
export function makeTestCertificate(name = 'localhost'): {
  key: string;
  cert: string;
  dir: string;
  keyFile: string;
  certFile: string;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mailbus-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name},IP:127.0.0.1`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    dir,
    keyFile,
    certFile,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
