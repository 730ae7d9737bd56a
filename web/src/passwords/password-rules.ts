// The rules a new directory password must meet. With OPAQUE the API never sees the password,
// so the browser is where they are enforced: length, and zxcvbn's estimate against lists of
// common passwords, names and words (plus the person's own names, which make easy guesses).

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;
/** zxcvbn's "safely unguessable" score: about 10^8 guesses or more. */
const MIN_SCORE = 3;

type Checker = { check: (password: string, userInputs?: string[]) => { score: number; feedback: { warning: string | null } } };
let checker: Promise<Checker> | null = null;

/** The dictionaries weigh about a megabyte: fetched from the portal on first use, then kept. */
function strengthChecker(): Promise<Checker> {
  checker ??= Promise.all([
    import("@zxcvbn-ts/core"),
    import("@zxcvbn-ts/language-common"),
    import("@zxcvbn-ts/language-en"),
  ]).then(
    ([core, common, english]) =>
      new core.ZxcvbnFactory({
        translations: english.translations,
        dictionary: { ...common.dictionary, ...english.dictionary },
        graphs: common.adjacencyGraphs,
      }) as Checker,
    (error: unknown) => {
      checker = null;
      throw error;
    },
  );
  return checker;
}

/** Length only: what can be told at once, while typing. */
export function passwordLengthProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters`;
  return null;
}

/**
 * Why a new password is refused, or null when it is acceptable. `context` holds what an
 * attacker would try first for this account: names, username, email, tenant.
 */
export async function passwordProblem(password: string, context: readonly string[] = []): Promise<string | null> {
  const length = passwordLengthProblem(password);
  if (length) return length;
  const result = (await strengthChecker()).check(password, context.map((value) => value.trim()).filter(Boolean));
  if (result.score < MIN_SCORE) {
    return result.feedback.warning
      ? `Password is too easy to guess: ${result.feedback.warning}`
      : "Password is too easy to guess; use a longer passphrase";
  }
  return null;
}
