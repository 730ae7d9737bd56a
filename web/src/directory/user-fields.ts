// The API's rules for a directory user, checked in the browser to catch typos before a
// round trip. The API has the final word on uniqueness; a password's rules are checked in
// full by the password worker (the API never sees the password).

export const PASSWORD_MIN_LENGTH = 10;
export const USERNAME_MAX_LENGTH = 20;

/** Windows refuses these in account names. */
const USERNAME_FORBIDDEN = /["/\\[\]:;|=,+*?<>@]/;

/** Built-in Windows accounts an agent must never create or take over (the API's list is longer). */
const RESERVED_USERNAMES = new Set(["administrator", "administrators", "guest", "guests", "defaultaccount", "system", "everyone", "users"]);

export function nameProblem(value: string, what: string): string | null {
  if (!value.trim()) return `Enter the ${what}`;
  if (value.trim().length > 100) return "Use at most 100 characters";
  return null;
}

export function usernameProblem(value: string): string | null {
  const name = value.trim();
  if (!name) return "Enter a username";
  if (name.length > USERNAME_MAX_LENGTH) return `Windows account names have at most ${USERNAME_MAX_LENGTH} characters`;
  if (USERNAME_FORBIDDEN.test(name)) return 'These characters are not allowed: " / \\ [ ] : ; | = , + * ? < > @';
  if (/^[. ]+$/.test(name) || name.endsWith(".")) return "A name cannot be only dots or spaces, or end with a dot";
  if (RESERVED_USERNAMES.has(name.toLowerCase())) return "This is a reserved Windows account name";
  return null;
}

export function emailProblem(value: string, required = true): string | null {
  const address = value.trim();
  if (!address) return required ? "Enter an email address" : null;
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address) ? null : "Enter a valid email address";
}

/** What can be told of a new password at once; the rest is the password worker's check. */
export function passwordLengthProblem(value: string, required: boolean): string | null {
  if (!value) return required ? "Enter a password" : null;
  if (value.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (value.length > 128) return "Use at most 128 characters";
  return null;
}

/** A username suggested from an email address: its local part, cut to what Windows accepts. */
export function usernameFromEmail(email: string): string {
  const local = email.trim().split("@")[0] ?? "";
  return local.replace(/["/\\[\]:;|=,+*?<>@\s]/g, "").slice(0, USERNAME_MAX_LENGTH).replace(/\.+$/, "");
}
