// The shopper's side of 3-D Secure against the embedded Stripe emulator: open the authentication page
// with ?action=approve|fail, follow the emulator's 302 to our return hop, and follow the hop's 302 to the
// merchant's return_url. Returns what the shopper's browser would have seen at each step.

export interface ThreeDSecureResult {
  /** Status of the emulator's authentication page (302 when it sent the shopper on). */
  pageStatus: number;
  /** Our return hop (PUBLIC_URL/return/<provider>/<attempt>), or null if the page sent nowhere. */
  hop: string | null;
  /** Status of the return hop (302 to the merchant's return_url). */
  hopStatus: number | null;
  /** The merchant's return_url with Stripe's three parameters, or null. */
  merchantUrl: URL | null;
  /** Every body the shopper received, for scans. */
  bodies: string[];
}

export async function completeThreeDSecure(
  redirectUrl: string,
  action: 'approve' | 'fail',
): Promise<ThreeDSecureResult> {
  const bodies: string[] = [];
  const page = await fetch(`${redirectUrl}${redirectUrl.includes('?') ? '&' : '?'}action=${action}`, {
    redirect: 'manual',
  });
  bodies.push(await page.text());
  const hop = page.headers.get('location');
  if (page.status !== 302 || !hop) {
    return { pageStatus: page.status, hop: null, hopStatus: null, merchantUrl: null, bodies };
  }
  const back = await fetch(hop, { redirect: 'manual' });
  bodies.push(await back.text());
  const location = back.headers.get('location');
  return {
    pageStatus: page.status,
    hop,
    hopStatus: back.status,
    merchantUrl: location ? new URL(location) : null,
    bodies,
  };
}
