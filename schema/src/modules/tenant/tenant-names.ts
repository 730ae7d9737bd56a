// Tenant slugs are subdomains (`acme-msp.portal.example`). A customer's slug is
// `<name>-<msp slug>`; customer names have no hyphen, so a slug splits one way,
// and MSP slugs may not pose as a customer of another MSP.
import { z } from "zod";

/** Words that would shadow the product's own hosts or pages. */
export const RESERVED_SLUGS = new Set([
  "admin", "api", "app", "assets", "auth", "billing", "cdn", "dashboard", "docs", "graphql", "help",
  "id", "login", "logout", "mail", "msp", "portal", "root", "signup", "sso", "static", "status",
  "support", "system", "www", "latchkey",
]);

export const mspSlug = z
  .string()
  .trim()
  .toLowerCase()
  .min(3, "Use at least 3 characters")
  .max(30, "Use at most 30 characters")
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "Use lowercase letters, digits and single hyphens between them")
  .refine((slug) => !RESERVED_SLUGS.has(slug), "This name is reserved");

export const customerName = z
  .string()
  .trim()
  .min(1, "Required")
  .max(30, "Use at most 30 characters")
  .regex(/^[a-z0-9]+$/, "Use lowercase letters and digits only")
  .refine((name) => !RESERVED_SLUGS.has(name), "This name is reserved");

export function customerSlug(name: string, mspSlugValue: string) {
  return `${name}-${mspSlugValue}`;
}

/**
 * Suffixes that would make `slug` ambiguous: "foo-acme" looks like customer foo
 * of MSP acme, so it is refused while an MSP "acme" exists, and "acme" is
 * refused while an MSP "foo-acme" exists.
 */
export function slugSuffixes(slug: string): string[] {
  const parts = slug.split("-");
  return parts.slice(1).map((_, index) => parts.slice(index + 1).join("-"));
}
