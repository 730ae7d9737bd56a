"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { useResetSession } from "@/urql/UrqlProvider";

// UnauthenticatedError, the other answer, also leaves the browser signed out: the session had
// already ended, and the cookie is cleared all the same.
const SignOutMutation = graphql(`
  mutation SignOut {
    revokeCurrentSession {
      __typename
    }
  }
`);

export function SignOutButton() {
  const router = useRouter();
  const resetSession = useResetSession();
  const [{ fetching }, revokeCurrentSession] = useMutation(SignOutMutation);
  const [problem, setProblem] = useState<string | null>(null);

  async function signOut() {
    setProblem(null);
    const result = await revokeCurrentSession({});
    if (result.error) {
      // The session cookie is still set, so staying on the page is the honest outcome.
      setProblem(`Could not sign out: ${result.error.message}`);
      return;
    }
    resetSession();
    router.replace("/login");
  }

  return (
    <>
      <button type="button" className="button-secondary" onClick={signOut} disabled={fetching}>
        {fetching ? "Signing out…" : "Sign out"}
      </button>
      {problem && (
        <span className="field-error" role="alert">
          {problem}
        </span>
      )}
    </>
  );
}
