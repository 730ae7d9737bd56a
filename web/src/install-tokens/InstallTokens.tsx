"use client";

import { useCallback, useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "@/gql";
import type { InstallTokenStatus } from "@/gql/graphql";
import { CheckboxField } from "@/forms/CheckboxField";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { actionProblem, errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { useApiUrl, useWebSocketReconnected } from "@/urql/UrqlProvider";

export const InstallTokenFields = graphql(`
  fragment InstallTokenFields on InstallToken {
    id
    prefix
    autoApprove
    maxUses
    uses
    expiresAt
    revokedAt
    createdAt
    status
  }
`);

const InstallTokensQuery = graphql(`
  query InstallTokens($tenantId: ID!) {
    tenant(id: $tenantId) {
      id
      installTokens(first: 100) {
        edges {
          node {
            ...InstallTokenFields
          }
        }
      }
    }
  }
`);

const CreateInstallTokenMutation = graphql(`
  mutation CreateInstallToken($input: CreateInstallTokenInput!) {
    createInstallToken(input: $input) {
      __typename
      ... on CreateInstallTokenPayload {
        installToken
        token {
          ...InstallTokenFields
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

const RevokeInstallTokenMutation = graphql(`
  mutation RevokeInstallToken($input: RevokeInstallTokenInput!) {
    revokeInstallToken(input: $input) {
      __typename
      ... on InstallTokenPayload {
        token {
          ...InstallTokenFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const STATUS_LABEL: Record<InstallTokenStatus, string> = {
  ACTIVE: "Active",
  EXPIRED: "Expired",
  USED_UP: "Used up",
  REVOKED: "Revoked",
};

const FIELDS = ["maxUses", "expiresInHours", "autoApprove"] as const;
type Field = (typeof FIELDS)[number];

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * Install tokens let the desktop agent enroll workstations into this customer. The secret
 * is shown once, when created; the API keeps only its hash and first characters.
 */
export function InstallTokens({ tenantId, tenantSlug, canManage }: { tenantId: string; tenantSlug: string; canManage: boolean }) {
  // A new token is put on top of the cached list and a revoked one updates in place (see
  // portal-cache.ts). Uses grow as workstations enroll elsewhere: the list is asked again on each
  // enrollment pushed to the Workstations page, and on each visit, since nothing is pushed to a
  // closed page.
  const [{ data, error }, refetch] = useQuery({
    query: InstallTokensQuery,
    variables: { tenantId },
    requestPolicy: "cache-and-network",
  });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  // Enrollments pushed while the WebSocket was down are gone.
  useWebSocketReconnected(reload);
  const [, revoke] = useMutation(RevokeInstallTokenMutation);
  const [notice, setNotice] = useState("");

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading install tokens…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load the install tokens: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else {
    const tokens = data?.tenant?.installTokens?.edges.map((edge) => edge.node) ?? [];
    body =
      tokens.length === 0 ? (
        <p className="table-status">No install tokens yet.</p>
      ) : (
        <ul className="access-list" aria-label="Install tokens">
          {tokens.map((token) => (
            <li key={token.id} className="access-item" aria-label={`Token ${token.prefix}`}>
              <span>
                <code>{token.prefix}…</code>{" "}
                <span className={token.status === "ACTIVE" ? "tag tag-success" : "tag"}>{STATUS_LABEL[token.status]}</span>
                <span className="muted token-details">
                  {" "}
                  {token.uses} of {token.maxUses} used · {token.autoApprove ? "approves workstations itself" : "workstations wait for approval"} ·{" "}
                  {token.status === "REVOKED" && token.revokedAt
                    ? `revoked ${when.format(new Date(token.revokedAt))}`
                    : `expires ${when.format(new Date(token.expiresAt))}`}
                </span>
              </span>
              {canManage && token.status === "ACTIVE" && (
                <ConfirmAction
                  label="Revoke"
                  accessibleLabel={`Revoke token ${token.prefix}`}
                  question="Revoke this token? Workstations can no longer enroll with it; enrolled ones stay."
                  confirmLabel="Revoke token"
                  busyLabel="Revoking…"
                  run={async () => {
                    const result = await revoke({ input: { id: token.id } });
                    const failed = actionProblem(result.error, result.data?.revokeInstallToken, "InstallTokenPayload");
                    if (!failed) setNotice(`Revoked token ${token.prefix}.`);
                    return failed;
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      );
  }

  return (
    <section className="card" aria-labelledby="install-tokens-title">
      <h2 id="install-tokens-title">Install tokens</h2>
      {canManage && <CreateInstallTokenForm tenantId={tenantId} tenantSlug={tenantSlug} />}
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}

function CreateInstallTokenForm({ tenantId, tenantSlug }: { tenantId: string; tenantSlug: string }) {
  const [{ fetching }, create] = useMutation(CreateInstallTokenMutation);
  const [values, setValues] = useState({ maxUses: "1", expiresInHours: "24", autoApprove: false });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [secret, setSecret] = useState<string | null>(null);

  function validate() {
    const problems = noErrors<Field>();
    const maxUses = Number(values.maxUses);
    const hours = Number(values.expiresInHours);
    if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 100_000) problems.fields.maxUses = "Enter a whole number from 1 to 100000";
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) problems.fields.expiresInHours = "Enter a whole number of hours from 1 to 2160 (90 days)";
    return problems;
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = validate();
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);

    const result = await create({
      input: {
        tenantId,
        maxUses: Number(values.maxUses),
        expiresInHours: Number(values.expiresInHours),
        autoApprove: values.autoApprove,
      },
    });
    const outcome = result.data?.createInstallToken;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "CreateInstallTokenPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    setSecret(outcome.installToken);
  }

  return (
    <>
      <form className="form token-form" onSubmit={submit} noValidate aria-label="New install token">
        <FormProblem message={errors.form} />
        <div className="field-row">
          <TextField
            name="maxUses"
            label="Workstations it may enroll"
            type="number"
            inputMode="numeric"
            min={1}
            value={values.maxUses}
            error={errors.fields.maxUses}
            onChange={(event) => {
              setValues((current) => ({ ...current, maxUses: event.target.value }));
              setErrors(noErrors);
            }}
          />
          <TextField
            name="expiresInHours"
            label="Valid for (hours)"
            type="number"
            inputMode="numeric"
            min={1}
            value={values.expiresInHours}
            error={errors.fields.expiresInHours}
            onChange={(event) => {
              setValues((current) => ({ ...current, expiresInHours: event.target.value }));
              setErrors(noErrors);
            }}
          />
        </div>
        <CheckboxField
          name="autoApprove"
          label="Approve its workstations automatically"
          hint="Otherwise each new workstation waits until an admin approves it below."
          checked={values.autoApprove}
          onChange={(event) => setValues((current) => ({ ...current, autoApprove: event.target.checked }))}
        />
        <button type="submit" disabled={fetching}>
          {fetching ? "Creating…" : "Create install token"}
        </button>
      </form>
      {secret && <NewTokenSecret secret={secret} tenantSlug={tenantSlug} onDismiss={() => setSecret(null)} />}
    </>
  );
}

/**
 * What the desktop agent reads with `desktop-agent enroll --config FILE`: where the API
 * answers, whose token it is and the token itself. Made here in the browser, the only
 * place the secret exists once the API has hashed it; nothing is asked of the server.
 */
function agentConfiguration(api: string, tenantSlug: string, installToken: string): string {
  return `${JSON.stringify({ latchkeyAgentConfiguration: 1, api, tenant: tenantSlug, installToken }, null, 2)}\n`;
}

/** The secret, this once, with a copy button, the command that uses it and a configuration file. */
function NewTokenSecret({ secret, tenantSlug, onDismiss }: { secret: string; tenantSlug: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState("");
  // The address workstations reach, as this browser reaches it (a relative API_URL included).
  const api = new URL(useApiUrl(), window.location.href).toString();
  const configHref = useMemo(
    () => `data:application/json;charset=utf-8,${encodeURIComponent(agentConfiguration(api, tenantSlug, secret))}`,
    [api, tenantSlug, secret],
  );

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Could not copy: select the token and copy it by hand.");
    }
  }

  return (
    <div className="token-secret" role="region" aria-label="New install token">
      <p>
        <strong>Copy this token now.</strong> It is not shown again.
      </p>
      <code data-testid="install-token-secret">{secret}</code>
      <p className="field-hint">
        {/* --tenant makes the agent refuse a token of another organisation pasted by mistake. */}
        On the workstation:{" "}
        <code data-testid="enroll-command">
          desktop-agent enroll --api {api} --token {secret} --tenant {tenantSlug}
        </code>
      </p>
      <p className="field-hint">
        Or deploy the agent with its configuration file (for example through your RMM):{" "}
        <code>desktop-agent enroll --config latchkey-agent.json</code>. The file holds the token: delete it once
        the workstations are enrolled.
      </p>
      <div className="revoke-actions">
        <button type="button" className="button-small" onClick={copy}>
          Copy token
        </button>
        <a className="button-secondary button-small" href={configHref} download="latchkey-agent.json">
          Download configuration
        </a>
        <button type="button" className="button-secondary button-small" onClick={onDismiss}>
          Done
        </button>
      </div>
      <p className="form-success" role="status">
        {copied}
      </p>
    </div>
  );
}
