"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { Viewer } from "./SignedIn";

/**
 * The portal's sections. An MSP's staff get customers, team and settings; a customer's
 * admin gets their own directory, which is that customer's page; everyone their own account.
 */
export function PortalNav({ viewer }: { viewer: Viewer }) {
  const pathname = usePathname();
  const msp = viewer.tenant.kind === "MSP";
  const links = msp
    ? [
        { href: "/customers", label: "Customers" },
        { href: "/team", label: "Team" },
        { href: "/elevations", label: "Elevations" },
        { href: "/audit", label: "Audit log" },
        ...(viewer.tenant.viewerCanEditSettings ? [{ href: "/settings", label: "Settings" }] : []),
        { href: "/account", label: "Your account" },
        { href: "/sessions", label: "Sessions" },
      ]
    : [
        // A customer's users have no admin pages: their own page is their home.
        ...(viewer.tenant.viewerCanManageUsers ? [{ href: `/customers/${viewer.tenant.id}`, label: "Directory" }] : []),
        { href: "/account", label: "Your account" },
        { href: "/sessions", label: "Sessions" },
      ];
  return (
    <nav className="portal-sections" aria-label="Portal">
      <ul>
        {links.map((link) => (
          <li key={link.href}>
            <Link
              href={link.href}
              aria-current={pathname === link.href ? "page" : pathname.startsWith(`${link.href}/`) ? "true" : undefined}
            >
              {link.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
