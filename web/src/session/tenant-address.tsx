"use client";

import { createContext, useContext, useEffect, useState, type ReactNode } from "react";

const BaseDomainContext = createContext("localhost");

/** Tenants' portals answer at `<slug>.<baseDomain>`; the bare domain serves every tenant. */
export function TenantAddressProvider({ baseDomain, children }: { baseDomain: string; children: ReactNode }) {
  return <BaseDomainContext.Provider value={baseDomain}>{children}</BaseDomainContext.Provider>;
}

const LAST_TENANT = "latchkey.lastTenant";

/**
 * The address of `slug`'s own portal, on this page's scheme and port; null until mounted
 * and on a host outside the base domain (where tenant addresses do not answer).
 */
export function useTenantAddress(slug: string): string | null {
  const baseDomain = useContext(BaseDomainContext);
  const [address, setAddress] = useState<string | null>(null);
  useEffect(() => {
    const { protocol, hostname, port } = window.location;
    const base = baseDomain.toLowerCase();
    if (hostname !== base && !hostname.endsWith(`.${base}`)) return setAddress(null);
    setAddress(`${protocol}//${slug}.${base}${port ? `:${port}` : ""}`);
  }, [slug, baseDomain]);
  return address;
}

/** The tenant this page's address names, or null on the bare domain (and any other host). */
export function tenantOfHost(hostname: string, baseDomain: string): string | null {
  const suffix = `.${baseDomain.toLowerCase()}`;
  const host = hostname.toLowerCase();
  if (!host.endsWith(suffix)) return null;
  const label = host.slice(0, -suffix.length);
  return /^[a-z0-9]+(-[a-z0-9]+)*$/.test(label) ? label : null;
}

/**
 * Which tenant a sign-in page is for: the one its address names (fixed), else one a link
 * named (`?tenant=`), else the last one signed in to on the bare domain. Known only in
 * the browser, so null until mounted.
 */
export function useSignInTenant() {
  const baseDomain = useContext(BaseDomainContext);
  const [tenant, setTenant] = useState<{ slug: string; fixed: boolean } | null>(null);
  useEffect(() => {
    const fromHost = tenantOfHost(window.location.hostname, baseDomain);
    if (fromHost) return setTenant({ slug: fromHost, fixed: true });
    const named = new URLSearchParams(window.location.search).get("tenant");
    const remembered = window.localStorage.getItem(LAST_TENANT);
    const slug = (named ?? remembered ?? "").trim().toLowerCase();
    if (slug) setTenant({ slug, fixed: false });
  }, [baseDomain]);
  return {
    tenant,
    /** After a sign-in on the bare domain: offered first next time. */
    remember(slug: string) {
      try {
        window.localStorage.setItem(LAST_TENANT, slug);
      } catch {
        // Storage may be refused (private mode, policy): the field is simply empty next time.
      }
    },
  };
}
