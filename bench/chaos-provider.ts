import type { Verdict } from './chaos-checks.js';
export async function providerFaults(_v: Verdict, _a: string) {}
