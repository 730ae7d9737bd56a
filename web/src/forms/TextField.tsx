import { useId, type InputHTMLAttributes, type ReactNode } from "react";

type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & {
  name: string;
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
};

export function TextField({ label, error, hint, className, ...input }: TextFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(" ");

  return (
    <div className={className ? `field ${className}` : "field"}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function FormProblem({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p className="form-problem" role="alert">
      {message}
    </p>
  );
}

/** Takes keyboard and screen-reader users to the first field that needs fixing. */
export function focusFirstInvalid(form: HTMLFormElement) {
  // After React has rendered the new aria-invalid attributes.
  setTimeout(() => form.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus());
}
