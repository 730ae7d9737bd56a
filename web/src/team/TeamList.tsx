"use client";

import Link from "next/link";
import { useCallback, useId, useState } from "react";
import { useQuery } from "urql";
import { graphql } from "@/gql";
import type { TeamMembersQuery } from "@/gql/graphql";
import { UserActions } from "@/directory/UserActions";
import { ApprovePhoneButton, approveLabel } from "./ApprovePhoneButton";
import { OnboardPhone } from "./OnboardPhone";
import { RevokePhoneButton } from "./RevokePhoneButton";

const TeamMembersQueryDocument = graphql(`
  query TeamMembers($tenantId: ID!, $first: Int!) {
    users(tenantId: $tenantId, first: $first) {
      totalCount
      edges {
        node {
          ...DirectoryUserFields
          delegatedTo(first: 20) {
            totalCount
            edges {
              node {
                id
                displayName
              }
            }
          }
        }
      }
    }
  }
`);

export type TeamMember = NonNullable<TeamMembersQuery["users"]>["edges"][number]["node"];

const PAGE_SIZE = 100;

const ROLE_LABEL: Record<TeamMember["role"], string> = {
  ADMIN: "Admin",
  TECHNICIAN: "Technician",
  USER: "User",
};

const addedOn = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function TeamList({ tenantId, tenantName, viewerId }: { tenantId: string; tenantName: string; viewerId: string }) {
  const [{ data, error }, refetch] = useQuery({
    query: TeamMembersQueryDocument,
    variables: { tenantId, first: PAGE_SIZE },
  });
  const [notice, setNotice] = useState("");
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading the team…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load the team: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else if (data && !data.users) {
    body = (
      <p className="table-status">
        Only admins of {tenantName} see the team. <Link href="/customers">Back to customers</Link>
      </p>
    );
  } else {
    const members = data?.users?.edges.map((edge) => edge.node) ?? [];
    const total = data?.users?.totalCount ?? members.length;
    body = (
      <>
        <ul className="team-list">
          {members.map((member) => (
            <MemberItem
              key={member.id}
              member={member}
              isViewer={member.id === viewerId}
              onPhoneLinked={reload}
              onNotice={setNotice}
            />
          ))}
        </ul>
        {total > members.length && (
          <p className="muted">
            Showing the first {members.length} of {total} people.
          </p>
        )}
      </>
    );
  }

  return (
    <section className="card" aria-labelledby="team-title">
      <div className="section-head">
        <h2 id="team-title">People at {tenantName}</h2>
      </div>
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}

function MemberItem(props: {
  member: TeamMember;
  isViewer: boolean;
  /** The phone linked itself, through the API: this portal's cache has not seen it. */
  onPhoneLinked: () => void;
  onNotice: (message: string) => void;
}) {
  const { member, isViewer } = props;
  const nameId = useId();
  const name = `${member.firstName} ${member.lastName}`;
  // `viewerCanManage` is false for yourself (no one locks themselves out), yet the API lets an
  // admin link and revoke their own phones: this list is only shown to the tenant's admins.
  const managesPhones = member.viewerCanManage || isViewer;
  const phones = member.linkedAuthenticators?.edges.map((edge) => edge.node) ?? [];
  const waiting = phones.filter((phone) => phone.status === "PENDING_APPROVAL");

  return (
    <li className="team-member" aria-labelledby={nameId}>
      <div className="team-member-head">
        <div>
          <h3 id={nameId} className="team-member-name">
            {name}
            {isViewer && <span className="muted"> (you)</span>}
          </h3>
          <p className="team-member-email">{member.email}</p>
        </div>
        <p className="team-member-tags">
          <span className="tag">{ROLE_LABEL[member.role]}</span>
          {member.status === "DISABLED" && <span className="tag tag-danger">Disabled</span>}
          {waiting.length > 0 && <span className="tag tag-warning">Phone waiting for approval</span>}
        </p>
      </div>
      {member.role === "TECHNICIAN" && member.delegatedTo && (
        <p className="team-member-customers">
          {member.delegatedTo.totalCount === 0 ? (
            <span className="muted">No customers delegated yet.</span>
          ) : (
            <>
              Customers:{" "}
              {member.delegatedTo.edges.map(({ node: customer }, index) => (
                <span key={customer.id}>
                  {index > 0 && ", "}
                  <Link href={`/customers/${customer.id}`}>{customer.displayName}</Link>
                </span>
              ))}
              {member.delegatedTo.totalCount > member.delegatedTo.edges.length &&
                ` and ${member.delegatedTo.totalCount - member.delegatedTo.edges.length} more`}
            </>
          )}
        </p>
      )}
      <div className="team-member-phones">
        {member.linkedAuthenticators === null ? null : phones.length === 0 ? (
          <p className="muted">No phone linked yet.</p>
        ) : (
          <ul className="phone-list" aria-label={`Phones of ${name}`}>
            {phones.map((phone) => (
              <li key={phone.id} className="phone-item">
                <span>
                  <span className="phone-name">{phone.name}</span>{" "}
                  <span className="muted">added {addedOn.format(new Date(phone.createdAt))}</span>
                  {phone.status === "PENDING_APPROVAL" && <span className="tag tag-warning phone-tag">Waiting for approval</span>}
                </span>
                <span className="access-actions">
                  {phone.status === "PENDING_APPROVAL" && phone.viewerCanApprove && (
                    <ApprovePhoneButton
                      phone={phone}
                      accessibleLabel={approveLabel(name, phone, waiting.length)}
                      whose={isViewer ? "your" : `${name}'s`}
                      onApproved={() => props.onNotice(`Approved ${phone.name} of ${name}.`)}
                    />
                  )}
                  {managesPhones && (
                    <RevokePhoneButton
                      phone={phone}
                      ownerName={name}
                      onRevoked={() => props.onNotice(`Revoked ${phone.name} of ${name}.`)}
                    />
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
        {managesPhones && member.status === "ACTIVE" && (
          <OnboardPhone
            user={{ id: member.id, name, email: member.email }}
            onLinked={() => {
              props.onNotice(`Linked a phone to ${name}.`);
              props.onPhoneLinked();
            }}
          />
        )}
      </div>
      {member.viewerCanManage && (
        <div className="team-member-actions">
          <UserActions user={member} roles={["ADMIN", "TECHNICIAN"]} onNotice={props.onNotice} />
        </div>
      )}
    </li>
  );
}
