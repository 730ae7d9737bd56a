"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { useResetSession } from "@/urql/UrqlProvider";

const LogOutMutation = graphql(`
  mutation LogOut {
    logOut
  }
`);

export function SignOutButton() {
  const router = useRouter();
  const resetSession = useResetSession();
  const [{ fetching }, logOut] = useMutation(LogOutMutation);
  const [problem, setProblem] = useState<string | null>(null);

  async function signOut() {
    setProblem(null);
    const result = await logOut({});
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
