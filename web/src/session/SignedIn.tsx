"use client";

import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import type { ViewerQuery } from "@/gql/graphql";
import { useViewer } from "./viewer";

export type Viewer = NonNullable<ViewerQuery["viewer"]>;

/** Renders its children for a signed-in viewer and sends everyone else to /login. */
export function SignedIn({ children }: { children: (viewer: Viewer) => ReactNode }) {
  const router = useRouter();
  const { viewer, loading, error, refetch } = useViewer();
  const signedOut = !loading && !error && !viewer;

  useEffect(() => {
    if (signedOut) router.replace("/login");
  }, [signedOut, router]);

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
  return children(viewer);
}
