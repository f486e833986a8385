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

/** A certificate and key issued by a TestCa, as PEM file paths. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * A fresh certificate authority (openssl) in its own temporary directory,
 * which issues client certificates: how sites prove who they are with TLS.
 */
export function makeTestCa(name = 'mailbus test CA'): {
  certFile: string;
  dir: string;
  issue(cn: string): IssuedCertificate;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mailbus-ca-'));
  const caKey = join(dir, 'ca.key');
  const certFile = join(dir, 'ca.crt');
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`].concat([
      '-keyout',
      caKey,
      '-out',
      certFile,
    ]),
  );
  return {
    certFile,
    dir,
    issue(cn) {
      const base = join(dir, cn.replace(/[^a-zA-Z0-9.-]/g, '_'));
      const keyFile = `${base}.key`;
      const crt = `${base}.crt`;
      openssl(
        ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', keyFile].concat([
          '-out',
          `${base}.csr`,
        ]),
      );
      openssl(
        ['x509', '-req', '-in', `${base}.csr`, '-CA', certFile, '-CAkey', caKey].concat([
          '-CAcreateserial',
          '-days',
          '2',
          '-out',
          crt,
        ]),
      );
      return { certFile: crt, keyFile };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
