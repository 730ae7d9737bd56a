"use client";

import { useCustomerPage } from "@/customers/CustomerShell";
import { CreateUserForm } from "./CreateUserForm";
import { UserList } from "./UserList";

/** A customer's users: the list, and the form that adds one. */
export function DirectoryScreen() {
  const { viewer, customer } = useCustomerPage();
  return (
    <div className="customers-layout">
      <UserList
        tenantId={customer.id}
        tenantName={customer.displayName}
        viewerId={viewer.user.id}
      />
      {customer.viewerCanManageUsers ? (
        <CreateUserForm
          tenantId={customer.id}
          title="New user"
          submitLabel="Add user"
          roles={["USER", "ADMIN"]}
          passwordHint="They log in to workstations with it; without one they use their phone only."
        />
      ) : (
        <p className="card muted">Ask an admin to add users.</p>
      )}
    </div>
  );
}
