"use client";

import { useMutation } from "urql";
import { graphql } from "@/gql";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { actionProblem } from "@/forms/form-errors";

const ApproveAuthenticatorMutation = graphql(`
  mutation ApproveAuthenticator($input: ApproveAuthenticatorInput!) {
    approveAuthenticator(input: $input) {
      __typename
      ... on ApproveAuthenticatorPayload {
        authenticator {
          id
          status
          approvedAt
          viewerCanApprove
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

/**
 * "Approve", then a confirmation in place: from then on the phone approves sign-ins for
 * its user. Shown only where the API says the viewer may (`viewerCanApprove`).
 */
export function ApprovePhoneButton(props: {
  phone: { id: string; name: string };
  /** What a screen reader hears for the button; starts with "Approve" (WCAG 2.5.3). */
  accessibleLabel: string;
  /** Whose sign-ins it will approve, as the question says it: "your" or "Tom Reyes's". */
  whose: string;
  onApproved: () => void;
}) {
  const [, approve] = useMutation(ApproveAuthenticatorMutation);
  return (
    <ConfirmAction
      label="Approve"
      accessibleLabel={props.accessibleLabel}
      question={`Approve ${props.phone.name}? It will approve ${props.whose} sign-ins. Approve only a phone you know was just linked.`}
      confirmLabel="Approve phone"
      busyLabel="Approving…"
      run={async () => {
        const result = await approve({ input: { id: props.phone.id } });
        const failed = actionProblem(result.error, result.data?.approveAuthenticator, "ApproveAuthenticatorPayload");
        if (!failed) props.onApproved();
        return failed;
      }}
    />
  );
}

/** "Approve phone of Tom Reyes", naming the phone when more than one of theirs waits. */
export function approveLabel(ownerName: string, phone: { name: string }, waiting: number) {
  return waiting > 1 ? `Approve phone of ${ownerName}: ${phone.name}` : `Approve phone of ${ownerName}`;
}
