// A directory username becomes a Windows local account on every workstation of
// its tenant, so it must be a name Windows takes, and one nobody can mistake
// for another: no invisible or direction-changing characters, no character
// that Unicode treats as a variant of a plainer one, no device name, and
// nothing that looks like a built-in account.
import { accountNameSkeletons } from "./lookalikes.ts";
import { foldAccountName } from "./windows-case.ts";

/** Windows' limit for a local account name, in UTF-16 code units as Windows counts them. */
export const MAX_ACCOUNT_NAME_LENGTH = 20;

/**
 * Built-in and well-known local accounts and groups that a directory user must
 * never become, and that no name may look like.
 */
export const RESERVED_ACCOUNT_NAMES: readonly string[] = [
  "Administrator", "Administrators", "Guest", "Guests", "DefaultAccount", "WDAGUtilityAccount",
  "defaultuser0", "defaultuser1", "SYSTEM", "LocalSystem", "LocalService", "NetworkService",
  "Local Service", "Network Service", "Everyone", "Users", "Authenticated Users", "Interactive",
  "krbtgt", "HomeGroupUser$", "sshd", "None", "Power Users", "Remote Desktop Users",
];

export type AccountNameRule =
  | "EMPTY"
  | "TOO_LONG"
  | "CONTROL_CHARACTER"
  | "BIDI_CONTROL"
  | "INVISIBLE_CHARACTER"
  | "FORBIDDEN_CHARACTER"
  | "DOTS_OR_SPACES"
  | "EDGE_SPACE"
  | "UNASSIGNED_CHARACTER"
  | "DEVICE_NAME"
  | "NOT_NORMALIZED"
  | "COMBINING_MARK_FIRST"
  | "RESERVED"
  | "RESERVED_LOOKALIKE";

export interface AccountNameProblem {
  rule: AccountNameRule;
  /** A sentence for the person who chose the name. */
  message: string;
}

const FORBIDDEN_BY_WINDOWS = /["/\\[\]:;|=,+*?<>]/;
const FORBIDDEN = /["/\\[\]:;|=,+*?<>@]/;
const CONTROL = /\p{Cc}/u;
const BIDI_CONTROL = /\p{Bidi_Control}/u;
// Format characters (Cf) and default-ignorables draw nothing: zero-width space
// and joiners, soft hyphen, word joiner, variation selectors, Hangul fillers,
// tags. Line and paragraph separators, spaces other than the plain one, and
// the blank Braille pattern look like nothing or like a plain space.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u2800]|(?! )\p{White_Space}/u;
// Unassigned code points (noncharacters included) render differently on
// every system, private-use ones by font; lone surrogates are no text at all.
const UNASSIGNED = /[\p{Cn}\p{Co}\p{Cs}]/u;
const COMBINING_MARK_FIRST = /^\p{M}/u;
// Windows opens these as devices whatever follows a dot, superscript digits
// included (COM¹ is COM1 to it).
const DEVICE_NAME = /^(?:CON|PRN|AUX|NUL|COM[0-9\u00B9\u00B2\u00B3]|LPT[0-9\u00B9\u00B2\u00B3])$/;

const RESERVED = RESERVED_ACCOUNT_NAMES.map((name) => ({ name, key: foldAccountName(name), skeletons: accountNameSkeletons(name) }));

const problem = (rule: AccountNameRule, message: string): AccountNameProblem => ({ rule, message });

/** Whether Windows opens `name` as a DOS device (NUL, CON.txt, com1, LPT¹...). */
export function isDeviceName(name: string): boolean {
  const base = foldAccountName(name).split(".")[0]!.replace(/ +$/, "");
  return DEVICE_NAME.test(base);
}

/** The reserved account `name` is or looks like, or null. */
export function reservedAccountName(name: string): { name: string; lookalike: boolean } | null {
  const key = foldAccountName(name);
  const exact = RESERVED.find((reserved) => reserved.key === key);
  if (exact) return { name: exact.name, lookalike: false };
  const skeletons = accountNameSkeletons(name);
  const similar = RESERVED.find((reserved) => reserved.skeletons.some((value) => skeletons.includes(value)));
  return similar ? { name: similar.name, lookalike: true } : null;
}

/**
 * What Windows itself refuses in a local account name (NetUserAdd): empty,
 * longer than 20, control characters, " / \ [ ] : ; | = , + * ? < >, only
 * dots and spaces, or a trailing dot. Accounts made outside Latchkey follow
 * these alone.
 */
export function windowsAccountNameProblem(name: string): AccountNameProblem | null {
  return windowsRules(name, FORBIDDEN_BY_WINDOWS, '" / \\ [ ] : ; | = , + * ? < >');
}

function windowsRules(name: string, forbidden: RegExp, listed: string): AccountNameProblem | null {
  if (name.length === 0) return problem("EMPTY", "Enter a name");
  if (name.length > MAX_ACCOUNT_NAME_LENGTH) return problem("TOO_LONG", `Windows account names have at most ${MAX_ACCOUNT_NAME_LENGTH} characters`);
  if (CONTROL.test(name)) return problem("CONTROL_CHARACTER", "Control characters are not allowed");
  if (forbidden.test(name)) return problem("FORBIDDEN_CHARACTER", `These characters are not allowed: ${listed}`);
  if (/^[. ]+$/.test(name) || name.endsWith(".")) return problem("DOTS_OR_SPACES", "A name cannot be only dots or spaces, or end with a dot");
  return null;
}

/**
 * Why `name` may not become a Latchkey-managed account, or null. On top of
 * Windows' own rules: no @ (it would read as a user principal name at the
 * login prompt), no invisible, direction-changing, unassigned or private-use
 * characters, no leading or trailing space, no device name, nothing NFKC
 * would change (fullwidth letters, ligatures, superscripts, long s: variants
 * of plainer characters), and no reserved account name or look-alike of one.
 */
export function accountNameProblem(name: string): AccountNameProblem | null {
  const windows = windowsRules(name, FORBIDDEN, '" / \\ [ ] : ; | = , + * ? < > @');
  if (windows) return windows;
  if (BIDI_CONTROL.test(name)) return problem("BIDI_CONTROL", "Characters that change the direction of text are not allowed");
  if (INVISIBLE.test(name)) return problem("INVISIBLE_CHARACTER", "Invisible characters (zero-width, formatting, or spaces other than the plain space) are not allowed");
  if (UNASSIGNED.test(name)) return problem("UNASSIGNED_CHARACTER", "Unassigned and private-use characters are not allowed");
  if (name.startsWith(" ") || name.endsWith(" ")) return problem("EDGE_SPACE", "A name cannot begin or end with a space");
  if (isDeviceName(name)) {
    return problem("DEVICE_NAME", "CON, PRN, AUX, NUL, COM0 to COM9 and LPT0 to LPT9 are device names in Windows, with or without an extension");
  }
  if (name.normalize("NFKC") !== name) {
    return problem("NOT_NORMALIZED", "Use plain characters: this name has variants that Unicode normalisation (NFKC) would change, such as fullwidth letters, ligatures, superscripts or a long s");
  }
  if (COMBINING_MARK_FIRST.test(name)) return problem("COMBINING_MARK_FIRST", "A name cannot begin with a combining mark");
  const reserved = reservedAccountName(name);
  if (reserved) {
    return reserved.lookalike
      ? problem("RESERVED_LOOKALIKE", `This name looks like the reserved Windows account name "${reserved.name}"`)
      : problem("RESERVED", "This is a reserved Windows account name");
  }
  return null;
}

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\p{Cn}\p{Co}\p{Cs}\u2800]|(?! )\p{White_Space}/gu;
const QUOTED_LENGTH = 40;

/**
 * `name` in quotes for a log line or a login feed, with every character that
 * draws nothing or reorders text written as \u{...}, and cut at 40 characters,
 * so a refused name shows what it really holds.
 */
export function quoteAccountName(name: string): string {
  const chars = [...name];
  const shown = chars.slice(0, QUOTED_LENGTH).join("").replace(UNPRINTABLE, (char) => `\\u{${char.codePointAt(0)!.toString(16).toUpperCase()}}`);
  return `"${shown}${chars.length > QUOTED_LENGTH ? "…" : ""}"`;
}
