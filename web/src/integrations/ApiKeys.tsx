"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "@/gql";
import type { ApiKeyPermission, ApiKeyStatus } from "@/gql/graphql";
import { CheckboxField } from "@/forms/CheckboxField";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { actionProblem, errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { TextAreaField } from "@/forms/TextAreaField";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { SecretOnce } from "./SecretOnce";

const ApiKeyFields = graphql(`
  fragment ApiKeyFields on ApiKey {
    id
    name
    prefix
    permissions
    allCustomers
    allowedSourceRanges
    expiresAt
    lastUsedAt
    lastUsedIp
    createdAt
    revokedAt
    status
  }
`);

const ApiKeysQuery = graphql(`
  query ApiKeys($tenantId: ID!) {
    apiKeys(tenantId: $tenantId, first: 30) {
      totalCount
      edges {
        node {
          ...ApiKeyFields
        }
      }
    }
  }
`);

const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      __typename
      ... on CreateApiKeyPayload {
        apiKey
        key {
          ...ApiKeyFields
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

const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      __typename
      ... on RevokeApiKeyPayload {
        key {
          ...ApiKeyFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const PERMISSION_LABEL: Record<ApiKeyPermission, string> = {
  READ_DIRECTORY: "Read the directory",
  MANAGE_USERS: "Manage users",
  MANAGE_CUSTOMERS: "Create customers",
  READ_AUDIT: "Read the audit log",
  READ_LOGIN_EVENTS: "Read desktop logins",
  READ_WORKSTATIONS: "Read workstations",
  MANAGE_WORKSTATIONS: "Manage workstations",
  MANAGE_WEBHOOKS: "Manage webhooks",
};

const STATUS_LABEL: Record<ApiKeyStatus, string> = { ACTIVE: "Active", EXPIRED: "Expired", REVOKED: "Revoked" };

const FIELDS = ["name", "permissions", "expiresAt", "allowedSourceRanges"] as const;
type Field = (typeof FIELDS)[number];

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The tenant's API keys: created with a name and permissions, the secret shown once; revocable. */
export function ApiKeys({ tenantId, msp }: { tenantId: string; msp: boolean }) {
  const [{ data, error }, refetch] = useQuery({ query: ApiKeysQuery, variables: { tenantId }, requestPolicy: "cache-and-network" });
  const [, revoke] = useMutation(RevokeApiKeyMutation);
  const [notice, setNotice] = useState("");
  const reload = () => refetch({ requestPolicy: "network-only" });

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading API keys…
      </p>
    );
  } else if (error || !data?.apiKeys) {
    body = (
      <p className="table-status" role="alert">
        Could not load the API keys{error ? `: ${error.message}` : "."}
      </p>
    );
  } else {
    const keys = data.apiKeys.edges.map((edge) => edge.node);
    body =
      keys.length === 0 ? (
        <p className="table-status">No API keys yet.</p>
      ) : (
        <ul className="access-list" aria-label="API keys">
          {keys.map((key) => (
            <li key={key.id} className="access-item" aria-label={`API key ${key.name}`}>
              <span>
                <strong>{key.name}</strong> <code>{key.prefix}…</code>{" "}
                <span className={key.status === "ACTIVE" ? "tag tag-success" : "tag"}>{STATUS_LABEL[key.status]}</span>
                <span className="muted token-details">
                  {" "}
                  {key.permissions.map((permission) => PERMISSION_LABEL[permission]).join(", ")}
                  {msp && (key.allCustomers ? " · all customers" : " · this MSP only")}
                  {key.allowedSourceRanges.length > 0 && ` · from ${key.allowedSourceRanges.join(", ")}`} ·{" "}
                  {key.lastUsedAt ? `last used ${when.format(new Date(key.lastUsedAt))} from ${key.lastUsedIp}` : "never used"}
                  {key.expiresAt && ` · expires ${when.format(new Date(key.expiresAt))}`}
                </span>
              </span>
              {key.status === "ACTIVE" && (
                <ConfirmAction
                  label="Revoke"
                  accessibleLabel={`Revoke API key ${key.name}`}
                  question="Revoke this key? Every request with it is refused from now on."
                  confirmLabel="Revoke key"
                  busyLabel="Revoking…"
                  run={async () => {
                    const result = await revoke({ input: { id: key.id } });
                    const failed = actionProblem(result.error, result.data?.revokeApiKey, "RevokeApiKeyPayload");
                    if (!failed) setNotice(`Revoked API key ${key.name}.`);
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
    <section className="card" aria-labelledby="api-keys-title">
      <h2 id="api-keys-title">API keys</h2>
      <p className="field-hint">
        For PSA and RMM tools, SIEMs and scripts: send the key as <code>Authorization: Bearer lk_…</code>. A key can do only what its
        permissions allow, and never signs in to this portal.
      </p>
      <CreateApiKeyForm tenantId={tenantId} msp={msp} onCreated={reload} />
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}

function CreateApiKeyForm({ tenantId, msp, onCreated }: { tenantId: string; msp: boolean; onCreated: () => void }) {
  const [{ fetching }, create] = useMutation(CreateApiKeyMutation);
  const [name, setName] = useState("");
  const [permissions, setPermissions] = useState<ApiKeyPermission[]>([]);
  const [expiresAt, setExpiresAt] = useState("");
  const [ranges, setRanges] = useState("");
  const [allCustomers, setAllCustomers] = useState(true);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [secret, setSecret] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = noErrors<Field>();
    if (!name.trim()) problems.fields.name = "Name the key after what uses it";
    if (permissions.length === 0) problems.fields.permissions = "Choose at least one permission";
    if (expiresAt && Number.isNaN(new Date(expiresAt).getTime())) problems.fields.expiresAt = "Enter a date and time";
    setErrors(problems);
    if (hasErrors(problems)) {
      focusFirstInvalid(form);
      return;
    }
    const result = await create({
      input: {
        tenantId,
        name,
        permissions,
        expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null,
        allowedSourceRanges: ranges.split(/[\s,]+/).filter(Boolean),
        ...(msp ? { allCustomers } : {}),
      },
    });
    const outcome = result.data?.createApiKey;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "CreateApiKeyPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    setSecret(outcome.apiKey);
    setName("");
    setPermissions([]);
    setExpiresAt("");
    setRanges("");
    onCreated();
  }

  return (
    <>
      <form className="form token-form" onSubmit={submit} noValidate aria-label="New API key">
        <FormProblem message={errors.form} />
        <TextField
          name="name"
          label="Name"
          hint="What uses it, e.g. PSA sync. Audit entries name it “API key <name>”."
          value={name}
          error={errors.fields.name}
          onChange={(event) => setName(event.target.value)}
        />
        <fieldset className="field" aria-invalid={errors.fields.permissions ? true : undefined}>
          <legend>Permissions</legend>
          {(Object.keys(PERMISSION_LABEL) as ApiKeyPermission[])
            .filter((permission) => msp || permission !== "MANAGE_CUSTOMERS")
            .map((permission) => (
              <CheckboxField
                key={permission}
                name={`permission-${permission}`}
                label={PERMISSION_LABEL[permission]}
                checked={permissions.includes(permission)}
                onChange={(event) =>
                  setPermissions((current) => (event.target.checked ? [...current, permission] : current.filter((p) => p !== permission)))
                }
              />
            ))}
          {errors.fields.permissions && <p className="field-error">{errors.fields.permissions}</p>}
        </fieldset>
        {msp && (
          <CheckboxField
            name="allCustomers"
            label="Act on every customer, including future ones"
            hint="Otherwise the key acts on this MSP's own tenant only (name customers through the API)."
            checked={allCustomers}
            onChange={(event) => setAllCustomers(event.target.checked)}
          />
        )}
        <TextField
          name="expiresAt"
          label="Expires (optional)"
          type="datetime-local"
          value={expiresAt}
          error={errors.fields.expiresAt}
          onChange={(event) => setExpiresAt(event.target.value)}
        />
        <TextAreaField
          name="allowedSourceRanges"
          label="Allowed source addresses (optional)"
          hint="IPv4 or IPv6 addresses or CIDR ranges, separated by commas or new lines. Empty: anywhere."
          value={ranges}
          error={errors.fields.allowedSourceRanges}
          onChange={(event) => setRanges(event.target.value)}
        />
        <button type="submit" disabled={fetching}>
          {fetching ? "Creating…" : "Create API key"}
        </button>
      </form>
      {secret && (
        <SecretOnce
          label="New API key"
          secret={secret}
          hint="Store it in your integration's secret store. Only its first characters are kept here."
          onDismiss={() => setSecret(null)}
        />
      )}
    </>
  );
}
