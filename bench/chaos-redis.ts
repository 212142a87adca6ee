import type { Verdict } from './chaos-checks.js';
export async function redisFaults(_v: Verdict, _a: string) {}
