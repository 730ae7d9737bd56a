// A username becomes a Windows local account name on every workstation of the
// tenant, so it follows Windows' rules, compared case-insensitively.
import { z } from "zod";

/** Built-in and well-known local accounts and groups an agent must never create or take over. */
export const RESERVED_USERNAMES = new Set(
  [
    "Administrator", "Administrators", "Guest", "Guests", "DefaultAccount", "WDAGUtilityAccount",
    "defaultuser0", "defaultuser1", "SYSTEM", "LocalSystem", "LocalService", "NetworkService",
    "Local Service", "Network Service", "Everyone", "Users", "Authenticated Users", "Interactive",
    "krbtgt", "HomeGroupUser$", "sshd", "None", "Power Users", "Remote Desktop Users",
  ].map((name) => name.toLowerCase()),
);

const FORBIDDEN = /["/\\[\]:;|=,+*?<>@]/;

export const username = z
  .string()
  .trim()
  .min(1, "Required")
  .max(20, "Windows account names have at most 20 characters")
  .refine((value) => !FORBIDDEN.test(value), 'These characters are not allowed: " / \\ [ ] : ; | = , + * ? < > @')
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), "Control characters are not allowed")
  .refine((value) => !/^[. ]+$/.test(value) && !value.endsWith("."), "A name cannot be only dots or spaces, or end with a dot")
  .refine((value) => !RESERVED_USERNAMES.has(value.toLowerCase()), "This is a reserved Windows account name");

export function usernameKey(value: string) {
  return value.trim().toLowerCase();
}

export function emailKey(value: string) {
  return value.trim().toLowerCase();
}
