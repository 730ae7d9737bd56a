"use client";

import { useCallback, useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "@/gql";
import type { WorkstationFieldsFragment } from "@/gql/graphql";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { Dialog } from "@/forms/Dialog";
import { actionProblem, errorsFromResult, errorsFromTransport, noErrors, type FormErrors } from "@/forms/form-errors";
import { FormProblem, TextField } from "@/forms/TextField";
import { useWebSocketReconnected } from "@/urql/UrqlProvider";

/** What the list shows of a workstation; pushed changes carry the same, so they update it in place. */
export const WorkstationFields = graphql(`
  fragment WorkstationFields on Workstation {
    id
    name
    hostname
    os
    status
    createdAt
    approvedAt
    lastSeenAt
    lastSeenIp
    canReceiveCredentials
    elevationAccount {
      id
      name
    }
    activeTechnicianSession {
      id
      technicianName
      endsAt
    }
  }
`);

const WorkstationsQueryDocument = graphql(`
  query Workstations($tenantId: ID!, $first: Int!) {
    workstations(tenantId: $tenantId, first: $first) {
      totalCount
      edges {
        node {
          ...WorkstationFields
        }
      }
    }
  }
`);

const ApproveWorkstationMutation = graphql(`
  mutation ApproveWorkstation($input: ApproveWorkstationInput!) {
    approveWorkstation(input: $input) {
      __typename
      ... on WorkstationPayload {
        workstation {
          id
          status
          approvedAt
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const RenameWorkstationMutation = graphql(`
  mutation RenameWorkstation($input: RenameWorkstationInput!) {
    renameWorkstation(input: $input) {
      __typename
      ... on WorkstationPayload {
        workstation {
          id
          name
        }
      }
      ... on Error {
        message
        code
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

const RemoveWorkstationMutation = graphql(`
  mutation RemoveWorkstation($input: RemoveWorkstationInput!) {
    removeWorkstation(input: $input) {
      __typename
      ... on RemoveWorkstationPayload {
        workstationId
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

type Workstation = WorkstationFieldsFragment;

const PAGE_SIZE = 100;

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * The customer's enrolled workstations, pending ones first, with approve, rename and remove.
 * Enrollments, approvals, renames and removals are pushed while the page is open (see
 * WorkstationsScreen); check-ins are not, so Refresh is there for fresh "last seen" times.
 */
export function WorkstationList(props: { tenantId: string; canManage: boolean; liveProblem: string | null }) {
  const { tenantId, canManage } = props;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: WorkstationsQueryDocument,
    variables: { tenantId, first: PAGE_SIZE },
    // Changes made while the page was closed were never pushed to it: each visit asks again.
    requestPolicy: "cache-and-network",
  });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  // Pushes sent while the WebSocket was down are gone.
  useWebSocketReconnected(reload);
  const [notice, setNotice] = useState("");

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading workstations…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load the workstations: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else {
    const workstations = data?.workstations?.edges.map((edge) => edge.node) ?? [];
    const total = data?.workstations?.totalCount ?? workstations.length;
    body =
      workstations.length === 0 ? (
        <p className="table-status">No workstations yet. Enroll one with an install token.</p>
      ) : (
        <>
          <ul className="user-list" aria-label="Workstations">
            {workstations.map((workstation) => (
              <WorkstationItem
                key={workstation.id}
                workstation={workstation}
                canManage={canManage}
                onNotice={setNotice}
              />
            ))}
          </ul>
          {total > workstations.length && (
            <p className="muted">
              Showing the first {workstations.length} of {total} workstations.
            </p>
          )}
        </>
      );
  }

  return (
    <section className="card" aria-labelledby="workstations-title">
      <div className="section-head">
        <h2 id="workstations-title">Workstations</h2>
        <div className="section-actions">
          <p className="muted live-indicator">
            {props.liveProblem ? (
              <span role="alert">Live updates stopped: {props.liveProblem}</span>
            ) : (
              <>
                <span className="live-dot" aria-hidden="true" /> Updates live
              </>
            )}
          </p>
          <button type="button" className="button-secondary button-small" onClick={reload} disabled={fetching}>
            {fetching ? "Refreshing…" : "Refresh"}
          </button>
        </div>
      </div>
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}

function WorkstationItem(props: {
  workstation: Workstation;
  canManage: boolean;
  onNotice: (message: string) => void;
}) {
  const { workstation } = props;
  const nameId = useId();
  const [renaming, setRenaming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching: approving }, approve] = useMutation(ApproveWorkstationMutation);
  const [, remove] = useMutation(RemoveWorkstationMutation);

  async function approveWorkstation() {
    setProblem(null);
    const result = await approve({ input: { id: workstation.id } });
    const failed = actionProblem(result.error, result.data?.approveWorkstation, "WorkstationPayload");
    if (failed) return setProblem(failed);
    props.onNotice(`Approved ${workstation.name}.`);
  }

  return (
    <li className="user-item" aria-labelledby={nameId}>
      <div className="user-item-head">
        <div>
          <h3 id={nameId} className="user-name">
            {workstation.name}
          </h3>
          <p className="user-details">
            <code>{workstation.hostname}</code> · {workstation.os} · enrolled {when.format(new Date(workstation.createdAt))}
            {workstation.lastSeenAt && (
              <>
                {" "}
                · last seen {when.format(new Date(workstation.lastSeenAt))}
                {workstation.lastSeenIp ? ` from ${workstation.lastSeenIp}` : ""}
              </>
            )}
          </p>
        </div>
        <p className="team-member-tags">
          {workstation.status === "PENDING" ? (
            <span className="tag tag-warning">Waiting for approval</span>
          ) : (
            <span className="tag tag-success">Approved</span>
          )}
          {!workstation.canReceiveCredentials && <span className="tag">No password sync</span>}
          {workstation.elevationAccount && <span className="tag">Admin account: {workstation.elevationAccount.name}</span>}
          {workstation.activeTechnicianSession && (
            <span className="tag tag-warning">
              Elevated: {workstation.activeTechnicianSession.technicianName}
              {workstation.activeTechnicianSession.endsAt ? ` until ${when.format(new Date(workstation.activeTechnicianSession.endsAt))}` : ""}
            </span>
          )}
        </p>
      </div>
      {props.canManage && (
        <div className="user-actions">
          {workstation.status === "PENDING" && (
            <button
              type="button"
              className="button-small"
              aria-label={`Approve ${workstation.name}`}
              onClick={approveWorkstation}
              disabled={approving}
            >
              Approve
            </button>
          )}
          <button
            type="button"
            className="button-secondary button-small"
            aria-label={`Rename ${workstation.name}`}
            aria-haspopup="dialog"
            onClick={() => setRenaming(true)}
          >
            Rename
          </button>
          <ConfirmAction
            label="Remove"
            accessibleLabel={`Remove ${workstation.name}`}
            question={`Remove ${workstation.name}? It stops working at once and must enroll again.`}
            confirmLabel="Remove workstation"
            busyLabel="Removing…"
            run={async () => {
              const result = await remove({ input: { id: workstation.id } });
              const failed = actionProblem(result.error, result.data?.removeWorkstation, "RemoveWorkstationPayload");
              if (!failed) props.onNotice(`Removed ${workstation.name}.`);
              return failed;
            }}
          />
          {problem && (
            <p className="field-error" role="alert">
              {problem}
            </p>
          )}
        </div>
      )}
      <Dialog open={renaming} title={`Rename ${workstation.name}`} onClose={() => setRenaming(false)}>
        <RenameForm
          workstation={workstation}
          onRenamed={(name) => {
            setRenaming(false);
            props.onNotice(`Renamed ${workstation.name} to ${name}.`);
          }}
        />
      </Dialog>
    </li>
  );
}

const RENAME_FIELDS = ["name"] as const;

/** The name phones show when someone approves a login on this workstation. */
function RenameForm({ workstation, onRenamed }: { workstation: Workstation; onRenamed: (name: string) => void }) {
  const [{ fetching }, rename] = useMutation(RenameWorkstationMutation);
  const [name, setName] = useState(workstation.name);
  const [errors, setErrors] = useState<FormErrors<"name">>(noErrors);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return setErrors({ fields: { name: "Enter a name" }, form: null });
    const result = await rename({ input: { id: workstation.id, name: trimmed } });
    const outcome = result.data?.renameWorkstation;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "WorkstationPayload") return setErrors(errorsFromResult(outcome, RENAME_FIELDS));
    onRenamed(trimmed);
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <FormProblem message={errors.form} />
      <TextField
        name="name"
        label="Name"
        autoComplete="off"
        required
        hint="Phones show this name when a user approves a login here."
        value={name}
        error={errors.fields.name}
        onChange={(event) => {
          setName(event.target.value);
          setErrors(noErrors);
        }}
      />
      <button type="submit" disabled={fetching}>
        {fetching ? "Renaming…" : "Rename"}
      </button>
    </form>
  );
}
