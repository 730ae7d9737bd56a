"use client";

import { useEffect, useState } from "react";

function secondsLeft(expiresAt: string) {
  return Math.max(0, Math.ceil((new Date(expiresAt).getTime() - Date.now()) / 1000));
}

function format(seconds: number) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * Time left on a code, ticking each second. A `timer` is not announced on every tick;
 * the status line next to it says when the code has expired. The API has the final word.
 */
export function Countdown({ expiresAt }: { expiresAt: string }) {
  const [left, setLeft] = useState(() => secondsLeft(expiresAt));

  useEffect(() => {
    setLeft(secondsLeft(expiresAt));
    const timer = setInterval(() => setLeft(secondsLeft(expiresAt)), 1_000);
    return () => clearInterval(timer);
  }, [expiresAt]);

  return (
    <p className="countdown" role="timer">
      {left > 0 ? (
        <>
          Code expires in <time dateTime={`PT${left}S`}>{format(left)}</time>
        </>
      ) : (
        "Code expiring…"
      )}
    </p>
  );
}
