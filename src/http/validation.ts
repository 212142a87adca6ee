// Turns zod issues into Stripe-shaped 400s that name the parameter in bracket notation (card[number]).
import type { z } from 'zod';
import { AppError, invalidParam, missingParam, unknownParam } from './errors.js';

export function bracketPath(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path.map(String);
  return [first ?? '', ...rest.map((segment) => `[${segment}]`)].join('');
}

export function issueToError(issue: z.core.$ZodIssue): AppError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return unknownParam(bracketPath([...issue.path, key]));
  }
  const param = bracketPath(issue.path);
  if (issue.code === 'invalid_type' && issue.input === undefined) return missingParam(param);
  if (issue.code === 'invalid_union') {
    // Pick the most specific branch message instead of zod's generic "Invalid input".
    const branch =
      issue.errors.flat().find((inner) => inner.code !== 'invalid_type') ?? issue.errors.flat()[0];
    if (branch) return issueToError({ ...branch, path: [...issue.path, ...branch.path] } as z.core.$ZodIssue);
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return invalidParam(param, `Invalid ${param}: must be one of ${issue.values.map(String).join(', ')}`);
  }
  if (issue.code === 'invalid_type') {
    return invalidParam(param, `Invalid ${param}: expected ${issue.expected}`);
  }
  return invalidParam(param, `Invalid ${param}: ${issue.message}`);
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw first
    ? issueToError(first)
    : new AppError(400, 'invalid_request_error', undefined, 'Invalid request.');
}
