"use client";

import { useCallback, useState } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "@/gql";
import { actionProblem } from "@/forms/form-errors";

const CustomerDelegationsQuery = graphql(`
  query CustomerDelegations($customerId: ID!, $mspId: ID!) {
    tenant(id: $customerId) {
      id
      technicianDelegations(first: 100) {
        edges {
          node {
            id
            createdAt
            technician {
              id
            }
          }
        }
      }
    }
    users(tenantId: $mspId, first: 100) {
      edges {
        node {
          id
          firstName
          lastName
          email
          role
          status
        }
      }
    }
  }
`);

const DelegateCustomerAccessMutation = graphql(`
  mutation DelegateCustomerAccess($input: DelegateCustomerAccessInput!) {
    delegateCustomerAccess(input: $input) {
      __typename
      ... on DelegateCustomerAccessPayload {
        delegation {
          id
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const RevokeCustomerAccessMutation = graphql(`
  mutation RevokeCustomerAccess($input: RevokeCustomerAccessInput!) {
    revokeCustomerAccess(input: $input) {
      __typename
      ... on RevokeCustomerAccessPayload {
        technician {
          id
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const since = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/**
 * Who at the MSP reaches this customer: every MSP admin, and the technicians it was
 * delegated to. MSP admins grant and revoke technicians' access here.
 */
export function DelegationPanel({ customer, mspId }: { customer: { id: string; displayName: string }; mspId: string }) {
  // Granting and revoking drop this customer's delegations from the cache, so they are asked
  // again (see portal-cache.ts); a role changed elsewhere updates the person in place.
  const [{ data, error }, refetch] = useQuery({
    query: CustomerDelegationsQuery,
    variables: { customerId: customer.id, mspId },
  });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  const [{ fetching: granting }, delegate] = useMutation(DelegateCustomerAccessMutation);
  const [{ fetching: revoking }, revoke] = useMutation(RevokeCustomerAccessMutation);
  const [notice, setNotice] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const people = data?.users?.edges.map((edge) => edge.node) ?? [];
  const admins = people.filter((person) => person.role === "ADMIN");
  const technicians = people.filter((person) => person.role === "TECHNICIAN");
  const delegated = new Map((data?.tenant?.technicianDelegations?.edges ?? []).map(({ node: delegation }) => [delegation.technician.id, delegation]));

  async function grant(technician: { id: string; firstName: string; lastName: string }) {
    setProblem(null);
    const result = await delegate({ input: { customerId: customer.id, technicianId: technician.id } });
    const failed = actionProblem(result.error, result.data?.delegateCustomerAccess, "DelegateCustomerAccessPayload");
    if (failed) return setProblem(failed);
    setNotice(`${technician.firstName} ${technician.lastName} now has access to ${customer.displayName}.`);
  }

  async function withdraw(technician: { id: string; firstName: string; lastName: string }) {
    setProblem(null);
    const result = await revoke({ input: { customerId: customer.id, technicianId: technician.id } });
    const failed = actionProblem(result.error, result.data?.revokeCustomerAccess, "RevokeCustomerAccessPayload");
    if (failed) return setProblem(failed);
    setNotice(`Revoked the access of ${technician.firstName} ${technician.lastName} to ${customer.displayName}.`);
  }

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading who has access…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load who has access: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else {
    body = (
      <>
        <h3 className="subhead">MSP admins</h3>
        <ul className="access-list" aria-label="MSP admins">
          {admins.map((admin) => (
            <li key={admin.id} className="access-item">
              <span>
                <span className="person-name">
                  {admin.firstName} {admin.lastName}
                </span>{" "}
                <span className="muted">{admin.email}</span>
              </span>
              <span className="tag tag-success">Access to every customer</span>
            </li>
          ))}
        </ul>
        <h3 className="subhead">Technicians</h3>
        {technicians.length === 0 ? (
          <p className="muted">No technicians yet. Add them on the Team page.</p>
        ) : (
          <ul className="access-list" aria-label="Technicians">
            {technicians.map((technician) => {
              const delegation = delegated.get(technician.id);
              const name = `${technician.firstName} ${technician.lastName}`;
              return (
                <li key={technician.id} className="access-item" aria-label={name}>
                  <span>
                    <span className="person-name">{name}</span> <span className="muted">{technician.email}</span>
                    {technician.status === "DISABLED" && <span className="tag tag-danger">Disabled</span>}
                  </span>
                  {delegation ? (
                    <span className="access-actions">
                      <span className="tag tag-success">Has access since {since.format(new Date(delegation.createdAt))}</span>
                      <button
                        type="button"
                        className="button-secondary button-small"
                        aria-label={`Revoke access of ${name}`}
                        onClick={() => withdraw(technician)}
                        disabled={revoking}
                      >
                        Revoke access
                      </button>
                    </span>
                  ) : (
                    <span className="access-actions">
                      <span className="tag">No access</span>
                      <button
                        type="button"
                        className="button-small"
                        aria-label={`Grant access to ${name}`}
                        onClick={() => grant(technician)}
                        disabled={granting}
                      >
                        Grant access
                      </button>
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </>
    );
  }

  return (
    <section className="card" aria-labelledby="access-title">
      <h2 id="access-title">Technician access</h2>
      <p className="muted">Technicians see only the customers delegated to them; MSP admins see every customer.</p>
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}
