// A bench database URL: its backends told apart by application_name, and
// whether they run on this machine.
/** The same connection string with an application_name, by which pg_stat_activity tells clients apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const named = new URL(url);
  named.searchParams.set("application_name", applicationName);
  return named.toString();
}

/** Whether the database server runs on this machine, so its backends' CPU can be read from /proc. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || host.startsWith("127.") || host === "";
}
