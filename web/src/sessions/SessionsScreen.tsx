"use client";

import { useCallback, useState } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "@/gql";
import type { SessionMethod, SessionsQuery } from "@/gql/graphql";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { actionProblem } from "@/forms/form-errors";
import { ChangePasswordForm } from "@/account/ChangePasswordForm";
import { PortalPage } from "@/session/PortalPage";
import type { Viewer } from "@/session/SignedIn";
import { useViewer } from "@/session/viewer";
import { describeUserAgent } from "./user-agent";

const SessionsQueryDocument = graphql(`
  query Sessions {
    viewer {
      sessions(first: 100) {
        totalCount
        edges {
          node {
            id
            current
            method
            ip
            userAgent
            createdAt
            lastSeenAt
            expiresAt
          }
        }
      }
    }
  }
`);

const RevokeSessionMutation = graphql(`
  mutation RevokeSession($input: RevokeSessionInput!) {
    revokeSession(input: $input) {
      __typename
      ... on RevokeSessionPayload {
        revokedSessionId
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const RevokeOtherSessionsMutation = graphql(`
  mutation RevokeOtherSessions {
    revokeOtherSessions {
      __typename
      ... on RevokeOtherSessionsPayload {
        revokedCount
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

type Session = NonNullable<SessionsQuery["viewer"]>["sessions"]["edges"][number]["node"];

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function SessionsScreen() {
  return <PortalPage title="Sessions">{(viewer) => <SessionsAndPassword viewer={viewer} />}</PortalPage>;
}

/**
 * A password change signs out the other sessions: the list is asked again after one. Someone
 * whose admin set their password is sent here first, and told why.
 */
function SessionsAndPassword({ viewer }: { viewer: Viewer }) {
  const [changes, setChanges] = useState(0);
  const { refetch: refetchViewer } = useViewer();
  const changed = () => {
    setChanges((count) => count + 1);
    // The rest of the portal opens again once the viewer no longer must change it.
    refetchViewer({ requestPolicy: "network-only" });
  };
  return (
    <>
      {viewer.user.mustChangePassword && (
        <p className="notice" role="alert">
          Your admin set your password. Choose your own below before you go on.
        </p>
      )}
      <SessionList key={changes} />
      <div className="narrow change-password">
        <ChangePasswordForm viewer={viewer} onChanged={changed} />
      </div>
    </>
  );
}

/** Where the viewer is signed in, newest first; any session but this one can be ended. */
function SessionList() {
  const [{ data, error }, refetch] = useQuery({ query: SessionsQueryDocument, requestPolicy: "cache-and-network" });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  const [, revokeOthers] = useMutation(RevokeOtherSessionsMutation);
  const [, revokeSession] = useMutation(RevokeSessionMutation);
  const [notice, setNotice] = useState("");

  // A hundred sessions is far more than anyone keeps open; past that, only the newest are listed.
  const sessions = data?.viewer?.sessions.edges.map((edge) => edge.node) ?? [];
  const others = sessions.filter((session) => !session.current);

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading sessions…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load your sessions: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else {
    body = (
      <ul className="session-list" aria-label="Your sessions">
        {sessions.map((session) => (
          <SessionItem
            key={session.id}
            session={session}
            revoke={async () => {
              const result = await revokeSession({ input: { id: session.id } });
              const failed = actionProblem(result.error, result.data?.revokeSession, "RevokeSessionPayload");
              // The cache drops the session, and the list is asked again (see portal-cache.ts).
              if (!failed) setNotice(`Signed out ${describeUserAgent(session.userAgent)}.`);
              return failed;
            }}
          />
        ))}
      </ul>
    );
  }

  return (
    <section className="card" aria-labelledby="sessions-title">
      <div className="section-head">
        <h2 id="sessions-title">Where you are signed in</h2>
        {others.length > 0 && (
          <ConfirmAction
            label="Sign out other sessions"
            accessibleLabel="Sign out other sessions"
            question={`End the ${others.length} other session${others.length === 1 ? "" : "s"}? This one stays signed in.`}
            confirmLabel="Sign them out"
            busyLabel="Signing out…"
            run={async () => {
              const result = await revokeOthers({});
              const failed = actionProblem(result.error, result.data?.revokeOtherSessions, "RevokeOtherSessionsPayload");
              const outcome = result.data?.revokeOtherSessions;
              if (!failed && outcome?.__typename === "RevokeOtherSessionsPayload") {
                setNotice(`Signed out ${outcome.revokedCount} other session${outcome.revokedCount === 1 ? "" : "s"}.`);
                reload();
              }
              return failed;
            }}
          />
        )}
      </div>
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
      {data && others.length === 0 && <p className="muted">This is your only session.</p>}
    </section>
  );
}

const SIGN_IN_METHOD: Record<SessionMethod, string> = {
  PASSWORD: "a password",
  QR: "the phone",
  PASSWORD_AND_PHONE: "a password and the phone",
};

function SessionItem({ session, revoke }: { session: Session; revoke: () => Promise<string | null> }) {
  const device = describeUserAgent(session.userAgent);
  return (
    <li className="session-item" aria-label={session.current ? `${device}, this session` : device}>
      <div>
        <p className="person-name">
          {device}
          {session.current && <span className="tag tag-success">This session</span>}
        </p>
        <p className="muted session-details">
          Signed in {when.format(new Date(session.createdAt))} with {SIGN_IN_METHOD[session.method]}
          {session.ip ? ` from ${session.ip}` : ""} · last active {when.format(new Date(session.lastSeenAt))}
        </p>
      </div>
      {!session.current && (
        <ConfirmAction
          label="Sign out"
          accessibleLabel={`Sign out ${device} signed in ${when.format(new Date(session.createdAt))}`}
          question="End this session?"
          confirmLabel="End session"
          busyLabel="Ending…"
          run={revoke}
        />
      )}
    </li>
  );
}
