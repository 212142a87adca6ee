// The certificate reader behind preflight's tls_certificates check, against a real TLS server on loopback
// with a certificate made here by openssl: days left from the clock's now, trust as Node decides it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCertificate } from '../src/modules/operations/tls-certificate.js';

let dir: string;
let server: https.Server;
let port: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-tls-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_q, r) => r.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('readCertificate', () => {
  it('reads the days left and reports a self-signed certificate as untrusted', async () => {
    const now = new Date();
    const info = await readCertificate(`https://localhost:${port}`, now);
    expect(info.days_left === 29 || info.days_left === 30).toBe(true);
    expect(info.trusted).toBe(false);
    expect(info.error).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // Days left follow the given clock, not the wall clock.
    const later = await readCertificate(
      `https://localhost:${port}`,
      new Date(now.getTime() + 20 * 86_400_000),
    );
    expect(later.days_left).toBe((info.days_left ?? 0) - 20);
  });

  it('says why when nothing answers', async () => {
    const info = await readCertificate('https://127.0.0.1:1', new Date());
    expect(info).toMatchObject({ days_left: null, trusted: false, error: 'ECONNREFUSED' });
  });
});
