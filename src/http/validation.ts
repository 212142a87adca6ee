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
    const branch = mostRelevantBranchIssue(issue.errors);
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

/**
 * A union's error should come from the branch the client meant: skip branches that refused the value's
 * kind outright (a number branch given an object), then take the issue deepest in the value.
 */
function mostRelevantBranchIssue(branches: z.core.$ZodIssue[][]): z.core.$ZodIssue | undefined {
  const firsts = branches.map((issues) => issues[0]).filter((i): i is z.core.$ZodIssue => i !== undefined);
  const kindMismatch = (i: z.core.$ZodIssue) =>
    i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_union');
  const meant = firsts.filter((i) => !kindMismatch(i));
  return [...(meant.length > 0 ? meant : firsts)].sort((a, b) => b.path.length - a.path.length)[0];
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  // reportInput: an issue then carries the value it refused, so a present but mistyped parameter is
  // told apart from a missing one (the value itself never goes into the message).
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw first
    ? issueToError(first)
    : new AppError(400, 'invalid_request_error', undefined, 'Invalid request.');
}
