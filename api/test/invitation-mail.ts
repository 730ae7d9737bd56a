// Invitation emails as a person reads them, for the tests that follow one.

/** An email as a person reads it: quoted-printable soft breaks and escapes undone. */
export function readable(mail: string) {
  return mail.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The invitation code an email carries, in its printed form. */
export const INVITATION_CODE = /invitation code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/;
