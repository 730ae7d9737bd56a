import { useId, type InputHTMLAttributes, type ReactNode } from "react";

type CheckboxFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "type"> & {
  name: string;
  label: string;
  hint?: ReactNode;
};

/** A checkbox with its label after it and an optional hint read with it. */
export function CheckboxField({ label, hint, ...input }: CheckboxFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field field-checkbox">
      <div className="checkbox-line">
        <input id={id} type="checkbox" aria-describedby={hint ? hintId : undefined} {...input} />
        <label htmlFor={id}>{label}</label>
      </div>
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}
