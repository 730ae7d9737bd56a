"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { Viewer } from "./SignedIn";

/** The portal's sections; the team page is for an MSP's own staff. */
export function PortalNav({ viewer }: { viewer: Viewer }) {
  const pathname = usePathname();
  const links = [
    { href: "/customers", label: "Customers" },
    ...(viewer.tenant.kind === "MSP" ? [{ href: "/team", label: "Team" }] : []),
  ];
  return (
    <nav className="portal-sections" aria-label="Portal">
      <ul>
        {links.map((link) => (
          <li key={link.href}>
            <Link href={link.href} aria-current={pathname === link.href ? "page" : undefined}>
              {link.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
