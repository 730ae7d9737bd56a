"use client";

import { useState } from "react";
import { useMutation } from "urql";
import type { DirectoryUserFieldsFragment, UserRole } from "@/gql/graphql";
import { ConfirmAction } from "@/forms/ConfirmAction";
import { Dialog } from "@/forms/Dialog";
import { actionProblem } from "@/forms/form-errors";
import { ROLE_LABEL } from "./CreateUserForm";
import { EditUserForm } from "./EditUserForm";
import { ResetPasswordForm } from "./ResetPasswordForm";
import { DeleteUserMutation, DisableUserMutation, EnableUserMutation, InviteUserMutation, SetUserRoleMutation, UnlockUserMutation } from "./user-operations";

/**
 * What an admin can do to one user: edit, unlock, set a password, change role, disable or
 * enable, delete. Shown only for users the API says the viewer manages (`viewerCanManage`). Lists and
 * figures follow through the cache: each write returns the user, or drops what it changed.
 */
export function UserActions(props: {
  user: DirectoryUserFieldsFragment;
  /** The two roles of this tenant kind: [admin, the other]. */
  roles: readonly [UserRole, UserRole];
  onNotice: (message: string) => void;
}) {
  const { user } = props;
  const name = `${user.firstName} ${user.lastName}`;
  const [dialog, setDialog] = useState<"edit" | "password" | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching: changingRole }, setUserRole] = useMutation(SetUserRoleMutation);
  const [, disableUser] = useMutation(DisableUserMutation);
  const [{ fetching: enabling }, enableUser] = useMutation(EnableUserMutation);
  const [{ fetching: unlocking }, unlockUser] = useMutation(UnlockUserMutation);
  const [{ fetching: inviting }, inviteUser] = useMutation(InviteUserMutation);
  const [, deleteUser] = useMutation(DeleteUserMutation);
  const [admin, other] = props.roles;
  const nextRole = user.role === admin ? other : admin;

  /** Sets the other role; returns what went wrong, if anything. */
  async function changeRole(): Promise<string | null> {
    setProblem(null);
    const result = await setUserRole({ input: { userId: user.id, role: nextRole } });
    const failed = actionProblem(result.error, result.data?.setUserRole, "SetUserRolePayload");
    if (!failed) props.onNotice(`${name} is now ${ROLE_LABEL[nextRole].toLowerCase()}.`);
    return failed;
  }

  async function invite() {
    setProblem(null);
    const result = await inviteUser({ input: { userId: user.id } });
    const failed = actionProblem(result.error, result.data?.inviteUser, "InviteUserPayload");
    if (failed) return setProblem(failed);
    props.onNotice(`Emailed ${name} an invitation to link their phone.`);
  }

  async function unlock() {
    setProblem(null);
    const result = await unlockUser({ input: { userId: user.id } });
    const failed = actionProblem(result.error, result.data?.unlockUser, "UnlockUserPayload");
    if (failed) return setProblem(failed);
    props.onNotice(`Unlocked ${name}.`);
  }

  async function enable() {
    setProblem(null);
    const result = await enableUser({ input: { userId: user.id } });
    const failed = actionProblem(result.error, result.data?.enableUser, "EnableUserPayload");
    if (failed) return setProblem(failed);
    props.onNotice(`Enabled ${name}.`);
  }

  return (
    <div className="user-actions">
      <button type="button" className="button-secondary button-small" aria-label={`Edit ${name}`} aria-haspopup="dialog" onClick={() => setDialog("edit")}>
        Edit
      </button>
      {user.status === "ACTIVE" && (
        // An email with a code that links their phone. Starts with the visible text (WCAG 2.5.3).
        <button type="button" className="button-secondary button-small" aria-label={`Invite: ${name}`} title="Email an invitation to link their phone" onClick={invite} disabled={inviting}>
          Invite
        </button>
      )}
      {user.locked && (
        <button type="button" className="button-secondary button-small" aria-label={`Unlock ${name}`} onClick={unlock} disabled={unlocking}>
          Unlock
        </button>
      )}
      <button
        type="button"
        className="button-secondary button-small"
        aria-label={`Reset password of ${name}`}
        aria-haspopup="dialog"
        onClick={() => setDialog("password")}
      >
        Reset password
      </button>
      {nextRole === admin ? (
        // Making an admin hands over every user and setting here (an MSP's admins reach every
        // customer too): asked once more. Taking it away is not.
        <ConfirmAction
          label="Make admin"
          // Starts with the visible text, so a speech user's "click Make admin" finds it (WCAG 2.5.3).
          accessibleLabel={`Make admin: ${name}`}
          question={
            other === "TECHNICIAN"
              ? `Make ${name} an admin? Admins manage the team and reach every customer.`
              : `Make ${name} an admin? Admins manage every user and setting of this organisation.`
          }
          confirmLabel="Make admin"
          busyLabel="Saving…"
          run={changeRole}
        />
      ) : (
        <button
          type="button"
          className="button-secondary button-small"
          aria-label={`Make ${ROLE_LABEL[nextRole].toLowerCase()}: ${name}`}
          onClick={async () => setProblem(await changeRole())}
          disabled={changingRole}
        >
          Make {ROLE_LABEL[nextRole].toLowerCase()}
        </button>
      )}
      {user.status === "ACTIVE" ? (
        <ConfirmAction
          label="Disable"
          accessibleLabel={`Disable ${name}`}
          question={`Disable ${name}? They are signed out everywhere and cannot sign in until enabled.`}
          confirmLabel="Disable user"
          busyLabel="Disabling…"
          run={async () => {
            const result = await disableUser({ input: { userId: user.id } });
            const failed = actionProblem(result.error, result.data?.disableUser, "DisableUserPayload");
            if (!failed) props.onNotice(`Disabled ${name}.`);
            return failed;
          }}
        />
      ) : (
        <button type="button" className="button-secondary button-small" aria-label={`Enable ${name}`} onClick={enable} disabled={enabling}>
          Enable
        </button>
      )}
      <ConfirmAction
        label="Delete"
        accessibleLabel={`Delete ${name}`}
        question={`Delete ${name}? This cannot be undone.`}
        confirmLabel="Delete user"
        busyLabel="Deleting…"
        run={async () => {
          const result = await deleteUser({ input: { userId: user.id } });
          const failed = actionProblem(result.error, result.data?.deleteUser, "DeleteUserPayload");
          if (!failed) props.onNotice(`Deleted ${name}.`);
          return failed;
        }}
      />
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <Dialog open={dialog === "edit"} title={`Edit ${name}`} onClose={() => setDialog(null)}>
        <EditUserForm
          user={user}
          onSaved={() => {
            setDialog(null);
            props.onNotice(`Saved ${name}.`);
          }}
        />
      </Dialog>
      <Dialog open={dialog === "password"} title={`New password for ${name}`} onClose={() => setDialog(null)}>
        <ResetPasswordForm
          user={{ id: user.id, name }}
          context={[user.firstName, user.lastName, user.username, user.email, user.personalEmail ?? ""]}
          onDone={() => {
            setDialog(null);
            props.onNotice(`Set a new password for ${name}.`);
          }}
        />
      </Dialog>
    </div>
  );
}
