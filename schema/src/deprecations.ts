// What converting the operations from before the public API's conventions left behind, for
// one release: mutations' positional arguments (`id`, `signature`, ...) beside their new
// `input`, and old names beside new ones. Each old form is deprecated with the same removal
// date, so a client written against it keeps working until then.
import { ValidationError } from "./errors.ts";

/** The day after which the old forms may be removed (see docs/integrating.md). */
export const OLD_FORMS_REMOVED_AFTER = "2027-06-30";

/** The deprecation reason of an old form: what to use instead, and when it goes. */
export function deprecatedFor(replacement: string) {
  return `Use \`${replacement}\`; removed after ${OLD_FORMS_REMOVED_AFTER}`;
}

/** The deprecation reason of positional argument `name`: its place in `input`. */
export function positionalDeprecation(name: string) {
  return deprecatedFor(`input.${name}`);
}

/** The description of a converted mutation's `input` argument, nullable while the old form lives. */
export function convertedInputDescription(mutation: string) {
  return (
    `What \`${mutation}\` needs. Give either \`input\` or the deprecated positional arguments, not both (VALIDATION otherwise). ` +
    `Required once the positional arguments are removed after ${OLD_FORMS_REMOVED_AFTER}.`
  );
}

type Positional<Input> = { [Name in keyof Input]?: Input[Name] | null };

/**
 * A converted mutation's input: `input` when it is given, else the positional arguments, of which
 * every name in `required` must be given. VALIDATION, before anything is read or written,
 * when both forms are given or neither.
 */
export function inputOrPositional<Input extends object>(
  input: Input | null | undefined,
  positional: Positional<Input>,
  required: readonly (keyof Input & string)[],
): Input {
  const given = Object.keys(positional).filter((name) => positional[name as keyof Input] != null);
  if (input != null) {
    if (given.length === 0) return input;
    throw new ValidationError(
      given.map((name) => ({ path: name, message: `Give \`input\` or the deprecated \`${name}\` argument, not both` })),
    );
  }
  if (given.length === 0) throw ValidationError.field("input", "Give `input`");
  const missing = required.filter((name) => positional[name] == null);
  if (missing.length > 0) {
    throw new ValidationError(missing.map((name) => ({ path: name, message: `Give \`${name}\`, or \`input\` instead of the deprecated arguments` })));
  }
  return positional as Input;
}
