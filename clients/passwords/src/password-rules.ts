// The rules a new password must meet. Only clients can enforce them: with
// OPAQUE the server never sees the password. Length, and zxcvbn's estimate
// against its common-password and English dictionaries plus the user's own
// names.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as english from "@zxcvbn-ts/language-en";

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

const strength = new ZxcvbnFactory({
  translations: english.translations,
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
});

/** Why a password is refused, or null when it is acceptable. `context`: the user's names, email, tenant. */
export function passwordProblem(password: string, context: string[]): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters`;
  const result = strength.check(password, context.filter(Boolean));
  if (result.score < 3) {
    return result.feedback.warning
      ? `Password is too easy to guess: ${result.feedback.warning}`
      : "Password is too easy to guess; use a longer passphrase";
  }
  return null;
}
