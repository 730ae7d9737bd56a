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

/**
 * The skeletons of a name as it can be shown: as typed, and upper- and
 * lower-cased as Windows matches it (in any case). A skeleton keeps case, and
 * Unicode lists some look-alikes in one case only: Cyrillic Н passes for H
 * while н does not pass for h, and dotless ı passes for i while I is its
 * capital. Two names look alike when they share any skeleton, so "JSMlTH"
 * (small L) is caught beside "jsmith" shown in capitals. Distinct values, in
 * that order.
 */
export function accountNameSkeletons(name: string): string[] {
  const folded = foldAccountName(name);
  return [...new Set([skeleton(name), skeleton(folded), skeleton(simpleLowerCase(folded))])];
}

/** Whether `a` and `b` would pass for each other as account names. */
export function lookalikeAccountNames(a: string, b: string): boolean {
  const first = accountNameSkeletons(a);
  return accountNameSkeletons(b).some((value) => first.includes(value));
}
