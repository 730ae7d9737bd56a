"use client";

import Link from "next/link";
import { useQuery } from "urql";
import { graphql } from "@/gql";
import { PortalPage } from "@/session/PortalPage";
import { ApprovePhoneButton } from "@/team/ApprovePhoneButton";
import { RevokePhoneButton } from "@/team/RevokePhoneButton";

const OwnAccountQuery = graphql(`
  query OwnAccount {
    viewer {
      user {
        id
        firstName
        lastName
        username
        email
        personalEmail
        role
        hasPassword
        passwordChangedAt
        linkedAuthenticators(first: 10) {
          edges {
            node {
              id
              name
              createdAt
              lastUsedAt
              status
              viewerCanApprove
            }
          }
        }
      }
      tenant {
        id
        displayName
        slug
      }
    }
  }
`);

const ROLE = { ADMIN: "Admin", TECHNICIAN: "Technician", USER: "User" } as const;

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * Everyone's own page: who they are in the directory, the phones that approve their
 * sign-ins (revocable here, and approvable here when the API allows it), their password's
 * state and their sessions. A customer's users land here; they have no admin pages.
 */
export function AccountScreen() {
  return <PortalPage title="Your account">{() => <OwnAccount />}</PortalPage>;
}

function OwnAccount() {
  const [{ data, error }, refetch] = useQuery({ query: OwnAccountQuery, requestPolicy: "cache-and-network" });
  if (!data && !error) {
    return (
      <p className="page-status" role="status">
        Loading your account…
      </p>
    );
  }
  const viewer = data?.viewer;
  if (error || !viewer) {
    return (
      <div className="page-status" role="alert">
        <p>Could not load your account. Check your connection and try again.</p>
        <button type="button" onClick={() => refetch({ requestPolicy: "network-only" })}>
          Try again
        </button>
      </div>
    );
  }
  const { user, tenant } = viewer;
  const name = `${user.firstName} ${user.lastName}`;
  const phones = user.linkedAuthenticators?.edges.map((edge) => edge.node) ?? [];
  const hasActivePhone = phones.some((phone) => phone.status === "ACTIVE");
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <div className="account-layout">
      <section className="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <dl className="account-facts">
          <dt>Name</dt>
          <dd>{name}</dd>
          <dt>Organisation</dt>
          <dd>
            {tenant.displayName} <code>{tenant.slug}</code>
          </dd>
          <dt>Role</dt>
          <dd>{ROLE[user.role]}</dd>
          <dt>Email</dt>
          <dd>{user.email}</dd>
          {user.personalEmail && (
            <>
              <dt>Personal email</dt>
              <dd>{user.personalEmail}</dd>
            </>
          )}
          <dt>Windows account</dt>
          <dd>
            <code>{user.username}</code>
          </dd>
        </dl>
        <p className="muted">Your organisation&apos;s admins change these for you.</p>
      </section>

      <section className="card" aria-labelledby="phones-title">
        <h2 id="phones-title">Your phones</h2>
        {phones.length === 0 ? (
          <p className="muted">
            No phone is linked yet. Install the Latchkey authenticator, verify your work email in it, and scan the code
            your admin shows you: then your phone approves your sign-ins.
          </p>
        ) : (
          <ul className="access-list" aria-label="Your phones">
            {phones.map((phone) => (
              <li key={phone.id} className="access-item" aria-label={phone.name}>
                <span>
                  <strong>{phone.name}</strong>
                  {phone.status === "PENDING_APPROVAL" && <span className="tag tag-warning phone-tag">Waiting for approval</span>}
                  <span className="muted">
                    {" "}
                    · linked {when.format(new Date(phone.createdAt))}
                    {phone.lastUsedAt ? ` · last used ${when.format(new Date(phone.lastUsedAt))}` : " · not used yet"}
                  </span>
                  {phone.status === "PENDING_APPROVAL" && !phone.viewerCanApprove && (
                    <span className="phone-hint muted">
                      {hasActivePhone
                        ? "It approves nothing until it is approved: sign in with your other phone, then approve it here within five minutes, or ask your admin."
                        : "It approves nothing until your admin approves it."}
                    </span>
                  )}
                </span>
                <span className="access-actions">
                  {phone.status === "PENDING_APPROVAL" && phone.viewerCanApprove && (
                    <ApprovePhoneButton phone={phone} accessibleLabel={`Approve ${phone.name}`} whose="your" onApproved={reload} />
                  )}
                  <RevokePhoneButton phone={phone} ownerName="You" onRevoked={reload} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby="password-title">
        <h2 id="password-title">Password</h2>
        {user.hasPassword ? (
          <p>
            You have a directory password
            {user.passwordChangedAt && <>, set {when.format(new Date(user.passwordChangedAt))}</>}. It signs you in here
            and at your organisation&apos;s workstations.
          </p>
        ) : (
          <p>You have no password: you sign in with your phone.</p>
        )}
      </section>

      <section className="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        <p>
          Where you are signed in, and signing out elsewhere: <Link href="/sessions">your sessions</Link>.
        </p>
      </section>
    </div>
  );
}
