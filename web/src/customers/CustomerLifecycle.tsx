"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { actionProblem, errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import type { Customer } from "./CustomerShell";

const SuspendCustomerMutation = graphql(`
  mutation SuspendCustomer($input: SuspendCustomerInput!) {
    suspendCustomer(input: $input) {
      __typename
      ... on SuspendCustomerPayload {
        customer {
          id
          status
          suspendedAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const ResumeCustomerMutation = graphql(`
  mutation ResumeCustomer($input: ResumeCustomerInput!) {
    resumeCustomer(input: $input) {
      __typename
      ... on ResumeCustomerPayload {
        customer {
          id
          status
          suspendedAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const DeleteCustomerMutation = graphql(`
  mutation DeleteCustomer($input: DeleteCustomerInput!) {
    deleteCustomer(input: $input) {
      __typename
      ... on DeleteCustomerPayload {
        deletedCustomerId
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
    }
  }
`);

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * Suspending and deleting a customer: its MSP's admins only. Suspension keeps
 * everything and can be lifted; deletion cannot, so it asks for the slug typed.
 */
export function CustomerLifecycle({ customer }: { customer: Customer }) {
  const router = useRouter();
  const [, suspend] = useMutation(SuspendCustomerMutation);
  const [{ fetching: resuming }, resume] = useMutation(ResumeCustomerMutation);
  const [{ fetching: deleting }, remove] = useMutation(DeleteCustomerMutation);
  const [notice, setNotice] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [confirmation, setConfirmation] = useState("");
  const [errors, setErrors] = useState<FormErrors<"confirmation">>(noErrors);
  const suspended = customer.status === "SUSPENDED";

  async function lift() {
    setProblem(null);
    const result = await resume({ input: { customerId: customer.id } });
    const failed = actionProblem(result.error, result.data?.resumeCustomer, "ResumeCustomerPayload");
    if (failed) return setProblem(failed);
    setNotice(`${customer.displayName} is active again: its users can sign in.`);
  }

  async function submitDelete(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    if (confirmation.trim().toLowerCase() !== customer.slug) {
      setErrors({ fields: { confirmation: `Type ${customer.slug} to delete this customer` }, form: null });
      return focusFirstInvalid(form);
    }
    const result = await remove({ input: { customerId: customer.id, confirmation } });
    const outcome = result.data?.deleteCustomer;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "DeleteCustomerPayload") {
      const problems = errorsFromResult(outcome, ["confirmation"] as const);
      setErrors(problems);
      if (hasErrors(problems)) focusFirstInvalid(form);
      return;
    }
    router.replace("/customers");
  }

  return (
    <section className="card lifecycle" aria-labelledby="lifecycle-title">
      <h2 id="lifecycle-title">Suspend or delete</h2>
      {suspended ? (
        <>
          <p>
            <span className="tag tag-danger">Suspended</span>{" "}
            {customer.suspendedAt && <>since {when.format(new Date(customer.suspendedAt))}. </>}
            Nobody of {customer.displayName} can sign in and its workstations refuse logins; its data is kept.
          </p>
          <button type="button" className="button-secondary" onClick={lift} disabled={resuming}>
            {resuming ? "Resuming…" : "Resume customer"}
          </button>
        </>
      ) : (
        <>
          <p className="muted">
            Suspending signs {customer.displayName}&apos;s users out everywhere, stops their sign-in and their
            workstations&apos; logins, and keeps every setting and user for when you resume it.
          </p>
          <ConfirmAction
            label="Suspend"
            accessibleLabel={`Suspend ${customer.displayName}`}
            question={`Suspend ${customer.displayName}? Its users are signed out at once.`}
            confirmLabel="Suspend"
            busyLabel="Suspending…"
            run={async () => {
              const result = await suspend({ input: { customerId: customer.id } });
              const failed = actionProblem(result.error, result.data?.suspendCustomer, "SuspendCustomerPayload");
              if (!failed) setNotice(`${customer.displayName} is suspended.`);
              return failed;
            }}
          />
        </>
      )}
      <p className="form-success" role="status">
        {notice}
      </p>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <form className="form lifecycle-delete" onSubmit={submitDelete} noValidate aria-label={`Delete ${customer.displayName}`}>
        <h3>Delete customer</h3>
        <p className="muted">
          Removes its users, their phones&apos; links, its workstations, install tokens and logs, and purges its audit
          log; your own audit log keeps a record. This cannot be undone.
        </p>
        <FormProblem message={errors.form} />
        <TextField
          name="confirmation"
          label={`Type ${customer.slug} to confirm`}
          autoComplete="off"
          spellCheck={false}
          value={confirmation}
          error={errors.fields.confirmation}
          onChange={(event) => {
            setConfirmation(event.target.value);
            setErrors(noErrors);
          }}
        />
        <button type="submit" className="button-danger" disabled={deleting}>
          {deleting ? "Deleting…" : "Delete customer"}
        </button>
      </form>
    </section>
  );
}
