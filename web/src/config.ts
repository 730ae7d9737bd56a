import { connection } from "next/server";

export type PortalConfig = {
  /** GraphQL endpoint as the browser reaches it. */
  apiUrl: string;
};

/**
 * Read at request time, not at build time, so one build serves any deployment:
 * `NEXT_PUBLIC_*` values would be frozen into the bundle by `next build`.
 */
export async function readPortalConfig(): Promise<PortalConfig> {
  await connection();
  const apiUrl = process.env.API_URL ?? `http://localhost:${process.env.API_PORT ?? 4000}/graphql`;
  const parsed = new URL(apiUrl);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`API_URL must be an http(s) URL, got ${apiUrl}`);
  }
  return { apiUrl: parsed.toString() };
}
