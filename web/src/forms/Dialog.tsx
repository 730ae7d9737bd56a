"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";

/**
 * A modal `<dialog>`: focus is trapped inside while it is open, Esc closes it, and focus
 * goes back to whatever opened it. Its content is only rendered while it is open, so
 * every opening starts from a fresh form.
 */
export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const titleId = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  }, [props.open]);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onClose={() => {
        props.onClose();
        opener.current?.focus();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="button-secondary button-small" aria-label="Close" onClick={() => ref.current?.close()}>
          ✕
        </button>
      </div>
      {props.open && props.children}
    </dialog>
  );
}
