import QRCode from "qrcode";

/**
 * The QR code of `payload` drawn with block characters, for a terminal: with
 * ANSI colours on a real terminal (`terminal`, small), plain UTF-8 half blocks
 * otherwise, so a log or a pipe gets something readable too.
 */
export function renderQrCode(payload: string, options: { colour?: boolean } = {}): Promise<string> {
  return options.colour
    ? QRCode.toString(payload, { type: "terminal", small: true, errorCorrectionLevel: "M" })
    : QRCode.toString(payload, { type: "utf8", errorCorrectionLevel: "M", margin: 2 });
}
