"use client";

import type { ReactNode } from "react";
import { PortalHeader } from "./PortalHeader";
import { SignedIn, type Viewer } from "./SignedIn";

/** A signed-in page: the portal header, then the page's own content under its heading. */
export function PortalPage({ title, children }: { title: string; children: (viewer: Viewer) => ReactNode }) {
  return (
    <SignedIn>
      {(viewer) => (
        <>
          <PortalHeader viewer={viewer} />
          <main className="page">
            <h1>{title}</h1>
            {children(viewer)}
          </main>
        </>
      )}
    </SignedIn>
  );
}
