import { PortalNav } from "./PortalNav";
import type { Viewer } from "./SignedIn";
import { SignOutButton } from "./SignOutButton";

export function PortalHeader({ viewer }: { viewer: Viewer }) {
  return (
    <header className="portal-header">
      <div className="portal-brand">
        <span className="portal-logo" aria-hidden="true">
          ⌂
        </span>
        <span>Latchkey</span>
        <span className="portal-tenant">{viewer.tenant.displayName}</span>
      </div>
      <PortalNav viewer={viewer} />
      <nav className="portal-nav" aria-label="Account">
        <span className="portal-user">
          {viewer.user.firstName} {viewer.user.lastName}
          <span className="portal-role">{viewer.user.role.toLowerCase()}</span>
        </span>
        <SignOutButton />
      </nav>
    </header>
  );
}
