"use client";

import QRCode from "qrcode";
import { useMemo } from "react";

/** Light squares around the code, in modules: scanners need a quiet zone. */
const QUIET_ZONE = 4;

/**
 * The QR payload drawn as an SVG in the browser (no image service, no network): one path
 * of dark modules, crisp at any size. Medium error correction survives a glare or a smudge.
 */
export function QrCode({ payload, label, dimmed = false }: { payload: string; label: string; dimmed?: boolean }) {
  const { size, path } = useMemo(() => {
    const { modules } = QRCode.create(payload, { errorCorrectionLevel: "M" });
    let d = "";
    for (let row = 0; row < modules.size; row += 1) {
      for (let column = 0; column < modules.size; column += 1) {
        if (modules.get(row, column)) d += `M${column + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
      }
    }
    return { size: modules.size + 2 * QUIET_ZONE, path: d };
  }, [payload]);

  return (
    <svg
      className={dimmed ? "qr-code qr-code-dimmed" : "qr-code"}
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
