// Names that look alike: Unicode's confusable detection (UTS #39, section 4).
// Two strings are confusable when their skeletons are equal. The prototype of
// each character comes from Unicode's confusables.txt, as `unhomoglyph` ships
// it; nothing here lists characters by hand.
import unhomoglyph from "unhomoglyph";
import { foldAccountName, simpleLowerCase } from "./windows-case.ts";

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * skeleton(X) of UTS #39: NFD, without default-ignorable code points, each
 * character replaced by its prototype, NFD again. For comparing only: a
 * skeleton is no name to show anyone ("m" becomes "rn").
 */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize("NFD").replace(DEFAULT_IGNORABLE, "")).normalize("NFD");
}

export interface AccountNameSkeletons {
  /** Skeleton of the name upper-cased as Windows compares it. */
  upper: string;
  /** Skeleton of that, lower-cased. */
  lower: string;
}

/**
 * A skeleton keeps case, and Unicode lists some look-alikes in one case only:
 * Cyrillic Н passes for H while н does not pass for h, and dotless ı passes
 * for i while its capital is I itself. Windows shows an account name as typed
 * and matches it in any case, so a name is taken in both cases: two names look
 * alike when either pair of skeletons is equal. Both come from the folded name,
 * so every spelling Windows takes for one account has the same two.
 */
export function accountNameSkeletons(name: string): AccountNameSkeletons {
  const folded = foldAccountName(name);
  return { upper: skeleton(folded), lower: skeleton(simpleLowerCase(folded)) };
}

/** Whether `a` and `b` would pass for each other as account names. */
export function lookalikeAccountNames(a: string, b: string): boolean {
  const first = accountNameSkeletons(a);
  const second = accountNameSkeletons(b);
  return first.upper === second.upper || first.lower === second.lower;
}
