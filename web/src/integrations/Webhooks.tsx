"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "@/gql";
import type { WebhookDeliveryStatus, WebhookEventType } from "@/gql/graphql";
import { CheckboxField } from "@/forms/CheckboxField";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { actionProblem, errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { SecretOnce } from "./SecretOnce";

const WebhookFields = graphql(`
  fragment WebhookFields on Webhook {
    id
    url
    description
    events
    enabled
    disabledReason
    failingSince
    createdAt
  }
`);

const WebhooksQuery = graphql(`
  query Webhooks($tenantId: ID!) {
    webhooks(tenantId: $tenantId, first: 20) {
      edges {
        node {
          ...WebhookFields
        }
      }
    }
  }
`);

const WebhookDeliveriesQuery = graphql(`
  query WebhookDeliveries($webhookId: ID!) {
    webhookDeliveries(webhookId: $webhookId, first: 20) {
      totalCount
      edges {
        node {
          id
          eventType
          status
          attempts
          responseCode
          lastError
          lastAttemptAt
          nextAttemptAt
          createdAt
        }
      }
    }
  }
`);

const CreateWebhookMutation = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      __typename
      ... on CreateWebhookPayload {
        secret
        webhook {
          ...WebhookFields
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

const UpdateWebhookMutation = graphql(`
  mutation UpdateWebhook($input: UpdateWebhookInput!) {
    updateWebhook(input: $input) {
      __typename
      ... on UpdateWebhookPayload {
        webhook {
          ...WebhookFields
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

const DeleteWebhookMutation = graphql(`
  mutation DeleteWebhook($input: DeleteWebhookInput!) {
    deleteWebhook(input: $input) {
      __typename
      ... on DeleteWebhookPayload {
        deletedWebhookId
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const RedeliverWebhookMutation = graphql(`
  mutation RedeliverWebhook($input: RedeliverWebhookInput!) {
    redeliverWebhook(input: $input) {
      __typename
      ... on RedeliverWebhookPayload {
        delivery {
          id
          status
          attempts
          nextAttemptAt
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const EVENT_LABEL: Record<WebhookEventType, string> = {
  LOGIN_EVENT: "Desktop logins",
  AUDIT_EVENT: "Audit log entries",
  WORKSTATION_CHANGED: "Workstation changes",
};

const DELIVERY_LABEL: Record<WebhookDeliveryStatus, string> = {
  PENDING: "Sending",
  RETRYING: "Retrying",
  SUCCEEDED: "Delivered",
  FAILED: "Failed",
};

const FIELDS = ["url", "events", "description"] as const;
type Field = (typeof FIELDS)[number];

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** The tenant's webhooks: endpoints that receive its events, signed, with their delivery logs. */
export function Webhooks({ tenantId, msp }: { tenantId: string; msp: boolean }) {
  const [{ data, error }, refetch] = useQuery({ query: WebhooksQuery, variables: { tenantId }, requestPolicy: "cache-and-network" });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [notice, setNotice] = useState("");

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading webhooks…
      </p>
    );
  } else if (error || !data?.webhooks) {
    body = (
      <p className="table-status" role="alert">
        Could not load the webhooks{error ? `: ${error.message}` : "."}
      </p>
    );
  } else {
    const webhooks = data.webhooks.edges.map((edge) => edge.node);
    body =
      webhooks.length === 0 ? (
        <p className="table-status">No webhooks yet.</p>
      ) : (
        <ul className="access-list" aria-label="Webhooks">
          {webhooks.map((webhook) => (
            <WebhookItem
              key={webhook.id}
              webhook={webhook}
              onDeleted={() => {
                setNotice(`Deleted the webhook to ${webhook.url}.`);
                reload();
              }}
            />
          ))}
        </ul>
      );
  }

  return (
    <section className="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p className="field-hint">
        Events are POSTed to your https endpoint, signed per Standard Webhooks, and retried for a day.
        {msp && " This MSP's webhooks also receive every customer's events."}
      </p>
      <CreateWebhookForm tenantId={tenantId} onCreated={reload} />
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}

type WebhookShape = { id: string; url: string; description: string; events: WebhookEventType[]; enabled: boolean; disabledReason: string | null };

function EventChoices({ events, onChange, error }: { events: WebhookEventType[]; onChange: (events: WebhookEventType[]) => void; error?: string | undefined }) {
  return (
    <fieldset className="field" aria-invalid={error ? true : undefined}>
      <legend>Events</legend>
      {(Object.keys(EVENT_LABEL) as WebhookEventType[]).map((type) => (
        <CheckboxField
          key={type}
          name={`event-${type}`}
          label={EVENT_LABEL[type]}
          checked={events.includes(type)}
          onChange={(event) => onChange(event.target.checked ? [...events, type] : events.filter((t) => t !== type))}
        />
      ))}
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}

function CreateWebhookForm({ tenantId, onCreated }: { tenantId: string; onCreated: () => void }) {
  const [{ fetching }, create] = useMutation(CreateWebhookMutation);
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<WebhookEventType[]>([]);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [secret, setSecret] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = noErrors<Field>();
    if (!url.trim()) problems.fields.url = "Enter the endpoint's URL";
    if (events.length === 0) problems.fields.events = "Choose at least one event";
    setErrors(problems);
    if (hasErrors(problems)) {
      focusFirstInvalid(form);
      return;
    }
    const result = await create({ input: { tenantId, url: url.trim(), events, description } });
    const outcome = result.data?.createWebhook;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "CreateWebhookPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    setSecret(outcome.secret);
    setUrl("");
    setDescription("");
    setEvents([]);
    onCreated();
  }

  return (
    <>
      <form className="form token-form" onSubmit={submit} noValidate aria-label="New webhook">
        <FormProblem message={errors.form} />
        <TextField
          name="url"
          label="Endpoint URL"
          type="url"
          placeholder="https://hooks.example.com/latchkey"
          value={url}
          error={errors.fields.url}
          onChange={(event) => setUrl(event.target.value)}
        />
        <TextField
          name="description"
          label="Description (optional)"
          value={description}
          error={errors.fields.description}
          onChange={(event) => setDescription(event.target.value)}
        />
        <EventChoices events={events} onChange={setEvents} error={errors.fields.events} />
        <button type="submit" disabled={fetching}>
          {fetching ? "Creating…" : "Create webhook"}
        </button>
      </form>
      {secret && (
        <SecretOnce
          label="New webhook secret"
          secret={secret}
          hint="Verify each request's webhook-signature header with it (see the integration guide)."
          onDismiss={() => setSecret(null)}
        />
      )}
    </>
  );
}

function WebhookItem({ webhook, onDeleted }: { webhook: WebhookShape; onDeleted: () => void }) {
  const [, update] = useMutation(UpdateWebhookMutation);
  const [, remove] = useMutation(DeleteWebhookMutation);
  const [editing, setEditing] = useState(false);
  const [showLog, setShowLog] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function setEnabled(enabled: boolean) {
    const result = await update({ input: { id: webhook.id, enabled } });
    setProblem(actionProblem(result.error, result.data?.updateWebhook, "UpdateWebhookPayload"));
  }

  return (
    <li className="access-item webhook-item" aria-label={`Webhook ${webhook.url}`}>
      <span>
        <code>{webhook.url}</code> <span className={webhook.enabled ? "tag tag-success" : "tag"}>{webhook.enabled ? "Enabled" : "Disabled"}</span>
        <span className="muted token-details">
          {" "}
          {webhook.events.map((type) => EVENT_LABEL[type]).join(", ")}
          {webhook.description && ` · ${webhook.description}`}
          {webhook.disabledReason && ` · ${webhook.disabledReason}`}
        </span>
      </span>
      <div className="revoke-actions">
        <button type="button" className="button-secondary button-small" aria-expanded={showLog} onClick={() => setShowLog((shown) => !shown)}>
          {showLog ? "Hide deliveries" : "Deliveries"}
        </button>
        <button type="button" className="button-secondary button-small" aria-expanded={editing} onClick={() => setEditing((open) => !open)}>
          Edit
        </button>
        <button type="button" className="button-secondary button-small" onClick={() => void setEnabled(!webhook.enabled)}>
          {webhook.enabled ? "Disable" : "Enable"}
        </button>
        <ConfirmAction
          label="Delete"
          accessibleLabel={`Delete webhook ${webhook.url}`}
          question="Delete this webhook and its delivery log? Queued deliveries are dropped."
          confirmLabel="Delete webhook"
          busyLabel="Deleting…"
          run={async () => {
            const result = await remove({ input: { id: webhook.id } });
            const failed = actionProblem(result.error, result.data?.deleteWebhook, "DeleteWebhookPayload");
            if (!failed) onDeleted();
            return failed;
          }}
        />
      </div>
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      {editing && <EditWebhookForm webhook={webhook} onDone={() => setEditing(false)} />}
      {showLog && <DeliveryLog webhookId={webhook.id} />}
    </li>
  );
}

function EditWebhookForm({ webhook, onDone }: { webhook: WebhookShape; onDone: () => void }) {
  const [{ fetching }, update] = useMutation(UpdateWebhookMutation);
  const [url, setUrl] = useState(webhook.url);
  const [description, setDescription] = useState(webhook.description);
  const [events, setEvents] = useState<WebhookEventType[]>(webhook.events);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    if (events.length === 0) {
      setErrors({ fields: { events: "Choose at least one event" }, form: null });
      return;
    }
    const result = await update({ input: { id: webhook.id, url: url.trim(), description, events } });
    const outcome = result.data?.updateWebhook;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "UpdateWebhookPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    onDone();
  }

  return (
    <form className="form token-form" onSubmit={submit} noValidate aria-label={`Edit webhook ${webhook.url}`}>
      <FormProblem message={errors.form} />
      <TextField name="url" label="Endpoint URL" type="url" value={url} error={errors.fields.url} onChange={(event) => setUrl(event.target.value)} />
      <TextField
        name="description"
        label="Description"
        value={description}
        error={errors.fields.description}
        onChange={(event) => setDescription(event.target.value)}
      />
      <EventChoices events={events} onChange={setEvents} error={errors.fields.events} />
      <div className="revoke-actions">
        <button type="submit" disabled={fetching}>
          {fetching ? "Saving…" : "Save webhook"}
        </button>
        <button type="button" className="button-secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DeliveryLog({ webhookId }: { webhookId: string }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: WebhookDeliveriesQuery, variables: { webhookId }, requestPolicy: "network-only" });
  const [, redeliver] = useMutation(RedeliverWebhookMutation);
  const [notice, setNotice] = useState("");
  const reload = () => refetch({ requestPolicy: "network-only" });

  if (!data && !error) {
    return (
      <p className="table-status" role="status">
        Loading deliveries…
      </p>
    );
  }
  if (error || !data?.webhookDeliveries) {
    return (
      <p className="table-status" role="alert">
        Could not load the deliveries{error ? `: ${error.message}` : "."}
      </p>
    );
  }
  const deliveries = data.webhookDeliveries.edges.map((edge) => edge.node);
  return (
    <div className="delivery-log">
      <div className="revoke-actions">
        <button type="button" className="button-secondary button-small" onClick={reload} disabled={fetching}>
          Refresh
        </button>
      </div>
      <p className="form-success" role="status">
        {notice}
      </p>
      {deliveries.length === 0 ? (
        <p className="table-status">No deliveries yet.</p>
      ) : (
        <table aria-label="Deliveries">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Response</th>
              <th scope="col">Attempts</th>
              <th scope="col">When</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((delivery) => (
              <tr key={delivery.id}>
                <td>{EVENT_LABEL[delivery.eventType]}</td>
                <td>
                  {DELIVERY_LABEL[delivery.status]}
                  {delivery.status === "RETRYING" && delivery.nextAttemptAt && ` (next ${when.format(new Date(delivery.nextAttemptAt))})`}
                </td>
                <td>{delivery.responseCode ?? delivery.lastError ?? "—"}</td>
                <td>{delivery.attempts}</td>
                <td>{when.format(new Date(delivery.lastAttemptAt ?? delivery.createdAt))}</td>
                <td>
                  {delivery.status !== "PENDING" && (
                    <button
                      type="button"
                      className="button-small"
                      aria-label={`Replay delivery ${delivery.id}`}
                      onClick={async () => {
                        const result = await redeliver({ input: { deliveryId: delivery.id } });
                        const failed = actionProblem(result.error, result.data?.redeliverWebhook, "RedeliverWebhookPayload");
                        setNotice(failed ?? "Queued again.");
                      }}
                    >
                      Replay
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
