import { connection } from "next/server";

export type PortalConfig = {
  /** GraphQL endpoint as the browser reaches it: a path (same-origin, through the front server) or a URL. */
  apiUrl: string;
  /** Each tenant's portal answers at `<slug>.<baseDomain>` (BASE_DOMAIN, default localhost). */
  baseDomain: string;
};

/**
 * Read at request time, not at build time, so one build serves any deployment:
 * `NEXT_PUBLIC_*` values would be frozen into the bundle by `next build`.
 */
export async function readPortalConfig(): Promise<PortalConfig> {
  await connection();
  // The front server (scripts/start.mjs) sets "/graphql": every tenant's host serves the API itself.
  const apiUrl = process.env.API_URL ?? `http://localhost:${process.env.API_PORT ?? 4000}/graphql`;
  const baseDomain = (process.env.BASE_DOMAIN ?? "localhost").toLowerCase();
  if (apiUrl.startsWith("/") && !apiUrl.startsWith("//")) return { apiUrl, baseDomain };
  const parsed = new URL(apiUrl);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`API_URL must be a path or an http(s) URL, got ${apiUrl}`);
  }
  return { apiUrl: parsed.toString(), baseDomain };
}
