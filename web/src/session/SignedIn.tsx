"use client";

import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import type { ViewerQuery } from "@/gql/graphql";
import { useViewer } from "./viewer";

export type Viewer = NonNullable<ViewerQuery["viewer"]>;

/** Where someone whose admin set their password chooses their own. */
const CHANGE_PASSWORD_PAGE = "/sessions";

/**
 * Renders its children for a signed-in viewer and sends everyone else to /login. Someone
 * whose password an admin set chooses their own first: every page sends them to the form.
 */
export function SignedIn({ children }: { children: (viewer: Viewer) => ReactNode }) {
  const router = useRouter();
  const pathname = usePathname();
  const { viewer, loading, error, refetch } = useViewer();
  const signedOut = !loading && !error && !viewer;
  const mustChangePassword = Boolean(viewer?.user.mustChangePassword) && pathname !== CHANGE_PASSWORD_PAGE;

  useEffect(() => {
    if (signedOut) router.replace("/login");
    else if (mustChangePassword) router.replace(CHANGE_PASSWORD_PAGE);
  }, [signedOut, mustChangePassword, router]);

  if (loading) {
    return (
      <p className="page-status" role="status">
        Loading…
      </p>
    );
  }
  if (error) {
    return (
      <div className="page-status" role="alert">
        <p>Could not reach the Latchkey API: {error.message}</p>
        <button type="button" onClick={() => refetch({ requestPolicy: "network-only" })}>
          Try again
        </button>
      </div>
    );
  }
  if (!viewer) {
    return (
      <p className="page-status" role="status">
        Redirecting to sign in…
      </p>
    );
  }
  if (mustChangePassword) {
    return (
      <p className="page-status" role="status">
        Your admin set your password: choose your own first…
      </p>
    );
  }
  return children(viewer);
}
