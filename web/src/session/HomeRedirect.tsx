"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useViewer } from "./viewer";

export function HomeRedirect() {
  const router = useRouter();
  const { viewer, loading, error } = useViewer();

  useEffect(() => {
    if (loading) return;
    // An unreachable API lands on /login too, which shows the error when the form is used.
    router.replace(viewer && !error ? "/customers" : "/login");
  }, [loading, viewer, error, router]);

  return (
    <p className="page-status" role="status">
      Loading…
    </p>
  );
}
