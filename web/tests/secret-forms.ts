// The forms a typed secret could take on its way out of the browser, for tests that search
// every request for it: as typed, JSON-escaped, percent-encoded, hex, base64 and base64url
// (at each of the three alignments it could have inside a longer encoded value).

function base64Aligned(secret: Buffer, alphabet: "base64" | "base64url"): string[] {
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), secret]).toString(alphabet);
    // Only the characters made entirely of the secret's bits: the rest depend on neighbours.
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + secret.length)) / 6);
    return encoded.slice(first, end);
  });
}

export function secretForms(secret: string): Record<string, string[]> {
  const bytes = Buffer.from(secret, "utf8");
  return {
    plain: [secret],
    json: [JSON.stringify(secret).slice(1, -1)],
    percent: [encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)],
    hex: [bytes.toString("hex"), bytes.toString("hex").toUpperCase()],
    base64: base64Aligned(bytes, "base64"),
    base64url: base64Aligned(bytes, "base64url"),
  };
}

/** The names of the forms of `secret` found in `text` (empty when none). */
export function secretFormsIn(text: string, secret: string): string[] {
  return Object.entries(secretForms(secret))
    .filter(([, forms]) => forms.some((form) => text.includes(form)))
    .map(([name]) => name);
}
