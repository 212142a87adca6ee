// Where a shopper IP is, from geoip-lite's offline database (no network call on the payment path), and
// how far apart two places are. The database takes about 100 MB and a second or more to load, so it is
// loaded on the first payment that needs it (the geography rule on, a shopper IP given), not at start:
// start-up stays within its budget and a service that never geolocates never pays for it.
export interface Location {
  latitude: number;
  longitude: number;
  country: string | null;
}

type Lookup = (ip: string) => { ll: [number | null, number | null]; country: string } | null;

let loading: Promise<Lookup> | undefined;

function lookupFunction(): Promise<Lookup> {
  loading ??= import('geoip-lite').then((module) => {
    const geoip = (module.default ?? module) as unknown as { lookup: Lookup };
    return (ip: string) => geoip.lookup(ip);
  });
  return loading;
}

/** The IP's location, or null for private, reserved and unknown addresses. */
export async function locate(ip: string): Promise<Location | null> {
  const found = (await lookupFunction())(ip);
  const [latitude, longitude] = found?.ll ?? [null, null];
  if (typeof latitude !== 'number' || typeof longitude !== 'number') return null;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  return { latitude, longitude, country: found?.country || null };
}

const EARTH_RADIUS_KM = 6371;
const radians = (degrees: number) => (degrees * Math.PI) / 180;

/** Great-circle distance (haversine) in kilometres. */
export function distanceKm(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
