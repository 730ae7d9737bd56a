// The rules for names that become Windows accounts, read as a person choosing
// a username would meet them.
import { describe, expect, it } from "vitest";
import {
  accountNameProblem,
  accountNameSkeletons,
  foldAccountName,
  isDeviceName,
  lookalikeAccountNames,
  quoteAccountName,
  reservedAccountName,
  sameAccountName,
  skeleton,
  windowsAccountNameProblem,
} from "../src/index.ts";

const rule = (name: string) => accountNameProblem(name)?.rule ?? null;

describe("names Windows compares as one account", () => {
  it("upper-cases each code point on its own, never expanding one into two as toUpperCase does", () => {
    expect("straße".toUpperCase()).toBe("STRASSE");
    expect(foldAccountName("straße")).toBe("STRAßE");
    expect(sameAccountName("straße", "STRASSE")).toBe(false);
    expect(sameAccountName("Straße", "STRAßE")).toBe(true);
    expect(foldAccountName("ŉ")).toBe("ŉ");
    expect(foldAccountName("ﬀ")).toBe("ﬀ");
  });

  it("folds letters of every script that have a plain case pair", () => {
    expect(foldAccountName("grace")).toBe("GRACE");
    expect(sameAccountName("Åsa", "åSA")).toBe(true);
    expect(sameAccountName("Σοφία", "ΣΟΦΊΑ")).toBe(true);
    expect(sameAccountName("дмитрий", "ДМИТРИЙ")).toBe(true);
    // Astral letters fold too (Deseret), where Windows' table, one UTF-16 unit
    // at a time, would not: folding more only ever makes two names clash.
    expect(sameAccountName("\u{10428}", "\u{10400}")).toBe(true);
  });

  it("keeps dotted İ and dotless ı apart from I and i, as Windows' own table does", () => {
    expect(foldAccountName("i")).toBe("I");
    expect(foldAccountName("ı")).toBe("ı");
    expect(foldAccountName("İ")).toBe("İ");
    expect(sameAccountName("admin", "ADMIN")).toBe(true);
    expect(sameAccountName("admın", "ADMIN")).toBe(false);
    expect(sameAccountName("ADMİN", "admin")).toBe(false);
    // No Turkish locale: i never becomes İ.
    expect(foldAccountName("istanbul")).toBe("ISTANBUL");
    expect(sameAccountName("İstanbul", "ıSTANBUL")).toBe(false);
  });

  it("leaves letters whose Unicode capital belongs to another letter, as Windows' upper-case table does", () => {
    // Windows' published table (MS-UCODEREF, "Windows 8 Upper Case Mapping
    // Table") maps none of these; Unicode's simple mapping would.
    for (const letter of ["ſ", "µ", "ς", "ǅ", "\u0345", "ϐ"]) expect(foldAccountName(letter)).toBe(letter);
    // ...and these it maps, as here.
    expect(foldAccountName("ǆƀƕƞǝάϲϸӏᵹ")).toBe("ǄɃǶȠƎΆϹϷӀᵹ".replace("ᵹ", "\uA77D"));
  });
});

describe("names that look alike (UTS #39 skeletons)", () => {
  it("computes Unicode's skeleton: prototypes after NFD, default-ignorables dropped", () => {
    expect(skeleton("paypal")).toBe(skeleton("\u{1D52D}\u{1D4B6}\u1EFF\u{1D561}\u{1D552}\u2113"));
    expect(skeleton("Admіnistrator")).toBe(skeleton("Administrator"));
    expect(skeleton("a\u200Bb")).toBe("ab");
  });

  it.each([
    ["Admіnistrator", "Administrator", "Cyrillic і"],
    ["АDMIN", "admin", "Cyrillic А"],
    ["ТОМ", "tom", "Cyrillic capitals Т О М, alike only in upper case"],
    ["ԁave", "Dave", "Cyrillic ԁ, alike only in lower case"],
    ["ΗELEN", "helen", "Greek capital eta"],
    ["admın", "admin", "dotless ı"],
    ["ADMİN", "admin", "dotted İ, whose lower case is i"],
    ["user1", "userl", "digit one and letter l"],
    ["rnary", "mary", "r n and m"],
    ["JSMlTH", "jsmith", "small L among capitals, beside the capitals of jsmith"],
    ["Ilona", "llona", "capital I and small L"],
    ["STRAẞE", "straße", "capital sharp s"],
  ])("%s looks like %s (%s)", (a, b) => {
    expect(lookalikeAccountNames(a, b)).toBe(true);
    expect(lookalikeAccountNames(b, a)).toBe(true);
  });

  it.each([
    ["ali", "all"],
    ["straße", "strasse"],
    ["grace", "grade"],
    ["ana", "anna"],
  ])("%s does not look like %s", (a, b) => {
    expect(lookalikeAccountNames(a, b)).toBe(false);
  });

  it("takes a name as typed, in upper and in lower case", () => {
    expect(accountNameSkeletons("Admin")).toEqual(["Adrnin", "ADMlN", "adrnin"]);
    expect(accountNameSkeletons("admın")).toEqual(["adrnin", "ADMiN"]);
    // Spellings Windows takes for one account share their upper- and lower-case skeletons.
    expect(accountNameSkeletons("GHopper")).toEqual(["GHopper", "GHOPPER", "ghopper"]);
    expect(accountNameSkeletons("GHopper")).toEqual(expect.arrayContaining(accountNameSkeletons("ghopper")));
  });
});

describe("accountNameProblem", () => {
  it.each(["ghopper", "Grace Hopper", "josé", "Zoë", "дмитрий", "İstanbul", "admin", "straße", "o'brien", "a.b-c_d", "李小龍", "SYST3M", "x".repeat(20)])(
    "accepts %j",
    (name) => {
      expect(accountNameProblem(name)).toBeNull();
    },
  );

  it.each([
    ["Admіnistrator", "RESERVED_LOOKALIKE", "Cyrillic і"],
    ["Admınistrator", "RESERVED_LOOKALIKE", "dotless ı"],
    ["ADMİNİSTRATOR", "RESERVED_LOOKALIKE", "dotted İ"],
    ["Guеst", "RESERVED_LOOKALIKE", "Cyrillic е"],
    
    ["Sуstem", "RESERVED_LOOKALIKE", "Cyrillic у"],
    ["administrator", "RESERVED", "any case"],
    ["ſystem", "NOT_NORMALIZED", "long s"],
    ["ſam", "NOT_NORMALIZED", "long s"],
    ["Ｇrace", "NOT_NORMALIZED", "fullwidth G"],
    ["ｇｈｏｐｐｅｒ", "NOT_NORMALIZED", "fullwidth letters"],
    ["ﬁona", "NOT_NORMALIZED", "fi ligature"],
    ["user²", "NOT_NORMALIZED", "superscript two"],
    ["Ⅸ", "NOT_NORMALIZED", "roman numeral"],
    ["jose\u0301", "NOT_NORMALIZED", "decomposed é"],
    ["grace\u200B", "INVISIBLE_CHARACTER", "zero-width space"],
    ["gr\u200Dace", "INVISIBLE_CHARACTER", "zero-width joiner"],
    ["gr\u00ADace", "INVISIBLE_CHARACTER", "soft hyphen"],
    ["gr\u2060ace", "INVISIBLE_CHARACTER", "word joiner"],
    ["grace\uFE0F", "INVISIBLE_CHARACTER", "variation selector"],
    ["\u3164grace", "INVISIBLE_CHARACTER", "Hangul filler"],
    ["gr\u2800ace", "INVISIBLE_CHARACTER", "blank Braille pattern"],
    ["grace\u00A0h", "INVISIBLE_CHARACTER", "no-break space"],
    ["grace\u2028", "INVISIBLE_CHARACTER", "line separator"],
    ["\u202Eecarg", "BIDI_CONTROL", "right-to-left override"],
    ["grace\u2066x\u2069", "BIDI_CONTROL", "isolates"],
    ["grace\u200F", "BIDI_CONTROL", "right-to-left mark"],
    ["gr\u0007ace", "CONTROL_CHARACTER", "bell"],
    ["grace\u0085", "CONTROL_CHARACTER", "next line"],
    ["gr\uE000ace", "UNASSIGNED_CHARACTER", "private use"],
    ["grace\uFFFF", "UNASSIGNED_CHARACTER", "noncharacter"],
    ["grace\uD800", "UNASSIGNED_CHARACTER", "lone surrogate"],
    ["\u0301grace", "COMBINING_MARK_FIRST", "combining mark first"],
    [" grace", "EDGE_SPACE", "leading space"],
    ["grace ", "EDGE_SPACE", "trailing space"],
    ["grace@home", "FORBIDDEN_CHARACTER", "@"],
    ["bad/name", "FORBIDDEN_CHARACTER", "slash"],
    ["a".repeat(21), "TOO_LONG", "21 characters"],
    ["\u{1D400}".repeat(11), "TOO_LONG", "11 astral letters are 22 UTF-16 units"],
    ["", "EMPTY", "empty"],
    ["...", "DOTS_OR_SPACES", "dots"],
    ["grace.", "DOTS_OR_SPACES", "trailing dot"],
  ])("refuses %j as %s (%s)", (name, expected) => {
    expect(rule(name)).toBe(expected);
  });

  it.each(["CON", "con", "Prn", "AUX", "NUL", "nul.txt", "NUL.tar.gz", "CON .txt", "COM0", "COM1", "com9", "LPT1", "lpt0", "COM¹", "COM²", "LPT³", "lpt¹.log"])(
    "refuses the device name %j",
    (name) => {
      expect(isDeviceName(name)).toBe(true);
      expect(rule(name)).toBe("DEVICE_NAME");
    },
  );

  it.each(["CONSOLE", "NULL", "COM10", "LPT", "xCON", "auxiliary", "COM1x", "conrad.x"])("does not take %j for a device", (name) => {
    expect(isDeviceName(name)).toBe(false);
  });

  it("names the reserved account a look-alike imitates", () => {
    expect(reservedAccountName("Admіnistrator")).toEqual({ name: "Administrator", lookalike: true });
    expect(reservedAccountName("GUEST")).toEqual({ name: "Guest", lookalike: false });
    expect(reservedAccountName("ghopper")).toBeNull();
    expect(accountNameProblem("Admіnistrator")?.message).toBe('This name looks like the reserved Windows account name "Administrator"');
  });

  it("lets Windows' own rules alone admit names Latchkey refuses (accounts made outside Latchkey)", () => {
    for (const name of ["grace@home", "Admіnistrator", "ſam", "a\u200Bb", "NUL"]) expect(windowsAccountNameProblem(name)).toBeNull();
    for (const name of ["", "a".repeat(21), "a/b", "a\u0007b", "..."]) expect(windowsAccountNameProblem(name)).not.toBeNull();
  });
});

describe("quoteAccountName", () => {
  it("shows what a refused name holds, invisible and direction characters written out", () => {
    expect(quoteAccountName("a\u202Eb\u200Bc")).toBe('"a\\u{202E}b\\u{200B}c"');
    expect(quoteAccountName("grace hopper")).toBe('"grace hopper"');
    expect(quoteAccountName("x".repeat(50))).toBe(`"${"x".repeat(40)}…"`);
  });
});
