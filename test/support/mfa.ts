// TOTP for tests: an authenticator that remembers the last time step it produced a code for, so two
// logins in the same 30 seconds use two different (both valid) codes instead of a replay, and the
// helpers that enrol an admin and log in with a code, so a test needing an admin session stays one line.
import { Secret, TOTP } from 'otpauth';
import type { Api } from './http.js';

const PERIOD_MS = 30_000;

export class Authenticator {
  private lastStep = -1;

  constructor(readonly secret: string) {}

  static fromUri(uri: string): Authenticator {
    const secret = new URL(uri).searchParams.get('secret');
    if (!secret) throw new Error(`no secret in ${uri}`);
    return new Authenticator(secret);
  }

  /** False when both steps the service would accept at `nowMs` were used: the clock must move on. */
  hasCodeAt(nowMs: number): boolean {
    return this.lastStep < Math.floor(nowMs / PERIOD_MS) + 1;
  }

  /** A code for the service-clock time `nowMs`: the current step, or the next when this one was used. */
  code(nowMs: number): string {
    const current = Math.floor(nowMs / PERIOD_MS);
    const step = Math.max(current, this.lastStep + 1);
    // The service accepts one step of drift; further ahead, the test must move its clock on.
    if (step > current + 1) throw new Error('authenticator: advance the clock 30 s for another code');
    this.lastStep = step;
    return this.codeAt(step * PERIOD_MS);
  }

  /** A code for a given instant that does not count as used here (for replay and wrong-code tests). */
  codeAt(ms: number): string {
    return TOTP.generate({ secret: Secret.fromBase32(this.secret), timestamp: ms });
  }
}

/** Enrols a TOTP authenticator for the operator behind `session` (a session token) and confirms it. */
export async function enrolTotp(api: Api, session: string, nowMs: number): Promise<Authenticator> {
  const started = await api.post<{ otpauth_uri: string }>('/admin/mfa/totp', {}, { key: session });
  if (started.status !== 200) throw new Error(`TOTP enrolment failed: ${started.text}`);
  const device = Authenticator.fromUri(started.body.otpauth_uri);
  const confirmed = await api.post('/admin/mfa/totp/confirm', { code: device.code(nowMs) }, { key: session });
  if (confirmed.status !== 200) throw new Error(`TOTP confirmation failed: ${confirmed.text}`);
  return device;
}

/**
 * Logs in and returns the session token. An admin without an authenticator is enrolled on the way
 * (`device` comes back set); one with an authenticator logs in with its code. `now` is the service clock.
 */
export async function loginWithMfa(
  api: Api,
  credentials: { email: string; password: string },
  device: Authenticator | undefined,
  now: () => number,
): Promise<{ token: string; device: Authenticator | undefined }> {
  const body = device ? { ...credentials, totp: device.code(now()) } : credentials;
  const login = await api.post<{ token: string; mfa_enrolment_required: boolean }>('/admin/login', body);
  if (login.status !== 200) throw new Error(`login of ${credentials.email} failed: ${login.text}`);
  if (!login.body.mfa_enrolment_required) return { token: login.body.token, device };
  return { token: login.body.token, device: await enrolTotp(api, login.body.token, now()) };
}
