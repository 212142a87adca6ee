import type { Verdict } from './chaos-checks.js';
export async function oneKey(_v: Verdict, _adminUrl: string, _n: number) {}
