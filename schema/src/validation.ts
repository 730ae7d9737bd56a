// Input is checked with zod before anything is written; every problem comes
// back at once as a ValidationError naming the input field.
import { z } from "zod";
import { ValidationError } from "./errors.ts";

export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({ path: issue.path.join(".") || "input", message: issue.message })),
  );
}

/** Whether text holds a control character: no name, slug or login does. */
export function hasControlCharacters(value: string) {
  return /[\u0000-\u001f\u007f]/.test(value);
}

/** `text`, refusing any that holds a control character. */
export function withoutControlCharacters(text: z.ZodString) {
  return text.refine((value) => !hasControlCharacters(value), "Control characters are not allowed");
}

/**
 * Whether text holds U+0000, which PostgreSQL refuses in any text it is asked to
 * store or compare (the statement fails): such text matches nothing stored.
 */
export function hasNul(value: string) {
  return value.includes("\u0000");
}

/** Trimmed, non-empty, bounded text for names people read. */
export const personName = withoutControlCharacters(z.string().trim().min(1, "Required").max(100, "Use at most 100 characters"));

export const displayName = personName;

export const email = z
  .string()
  .trim()
  .max(254, "Use at most 254 characters")
  .pipe(z.email("Enter a valid email address"));

/** Ids are UUIDs; anything else cannot name an object, so callers answer NOT_FOUND. */
export function isUuid(value: string) {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** base64url without padding, at most `max` characters: how every key, box and signature travels. */
export const base64urlText = (max: number) => z.string().max(max).regex(/^[A-Za-z0-9_-]+$/, "Expected base64url without padding");
