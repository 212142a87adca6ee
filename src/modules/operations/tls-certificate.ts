// Reads the certificate an https URL presents (runbook 002: "SSL certificates valid (minimum 90 days)"):
// when it expires and whether this process trusts it (NODE_EXTRA_CA_CERTS is honoured, as for every call).
import net from 'node:net';
import tls from 'node:tls';

export interface CertificateInfo {
  url: string;
  valid_to: string | null;
  /** Whole days from `now` to the expiry; negative once expired. */
  days_left: number | null;
  trusted: boolean;
  /** Why it is not trusted, or why it could not be read. */
  error: string | null;
}

const TIMEOUT_MS = 5_000;

export function readCertificate(url: string, now: Date): Promise<CertificateInfo> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const done = (info: Omit<CertificateInfo, 'url'>) => {
      socket.destroy();
      resolve({ url, ...info });
    };
    const socket = tls.connect({
      host,
      port: Number(target.port || 443),
      // An IP address cannot be a server name (SNI); the check against the certificate still runs.
      ...(net.isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      timeout: TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      const validTo = certificate?.valid_to ? new Date(certificate.valid_to) : undefined;
      const identityError = certificate ? tls.checkServerIdentity(host, certificate) : undefined;
      const authorizationError = socket.authorizationError ?? identityError?.message;
      done({
        valid_to: validTo?.toISOString() ?? null,
        days_left: validTo ? Math.floor((validTo.getTime() - now.getTime()) / 86_400_000) : null,
        trusted: socket.authorized && !identityError,
        error: authorizationError ? String(authorizationError) : null,
      });
    });
    socket.once('timeout', () =>
      done({ valid_to: null, days_left: null, trusted: false, error: `no TLS answer in ${TIMEOUT_MS} ms` }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ valid_to: null, days_left: null, trusted: false, error: error.code ?? error.message }),
    );
  });
}
