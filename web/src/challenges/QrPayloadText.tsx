/** The QR code's content as text, for whoever cannot scan (and for tests). */
export function QrPayloadText({ payload }: { payload: string }) {
  return (
    <details className="qr-text">
      <summary>Can&apos;t scan?</summary>
      <p>Enter this code in the Latchkey authenticator instead:</p>
      <code data-testid="qr-payload">{payload}</code>
    </details>
  );
}
