// Test worlds for desktop login, built through the public API in the product's
// words: install tokens, approvals, desktop settings, branding, and a phone for
// a user. Used by the end-to-end tests of the desktop agent's command line.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readStateFile } from "@latchkey/mobile";
import sharp from "sharp";
import type { Api } from "./harness.ts";
import { approvePhone, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";
import { desktopPasswordLogin } from "./password-login.ts";
import { WorkstationKeys } from "./workstation-keys.ts";

const run = promisify(execFile);
export const AUTHENTICATOR_BIN = fileURLToPath(new URL("../../clients/mobile/bin/authenticator.mjs", import.meta.url));

const ERRORS = `... on Error { code message }`;

export type LoginEventRow = {
  id: string;
  username: string | null;
  method: "PASSWORD" | "QR";
  outcome: "SUCCEEDED" | "FAILED";
  reason: string | null;
  accountOutcome: string | null;
  accountDetail: string | null;
  workstationId: string | null;
  user: { id: string } | null;
};

/** What an MSP admin does for one customer's workstations. */
export function desktopSeed(api: Api, msp: MspSeed, customer: CustomerSeed) {
  const asAdmin = { token: msp.token };

  async function mutate(query: string, variables: Record<string, unknown>, field: string, expected: string) {
    const data = await api.gql(query, variables, asAdmin);
    if (data[field].__typename !== expected) throw new Error(`${field} failed: ${JSON.stringify(data[field])}`);
    return data[field];
  }

  /** Another approved workstation of the customer, driven through the API with its own keys. */
  async function enrolled() {
    const token = await mutate(
      `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename
        ... on CreateInstallTokenPayload { installToken } ${ERRORS} } }`,
      { input: { tenantId: customer.id, autoApprove: true } },
      "createInstallToken",
      "CreateInstallTokenPayload",
    );
    const keys = WorkstationKeys.generate();
    const { enrollWorkstation } = await api.gql(
      `mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id } } ${ERRORS} } }`,
      { input: { installToken: token.installToken, hostname: "guesser", os: "Windows 11", publicKey: keys.publicKey, keyAgreementKey: keys.keyAgreementKey } },
    );
    if (enrollWorkstation.__typename !== "WorkstationPayload") throw new Error(`enroll failed: ${JSON.stringify(enrollWorkstation)}`);
    keys.workstationId = enrollWorkstation.workstation.id;
    return keys;
  }

  return {
    /** An approved workstation driven through the API with keys of its own (not the agent under test). */
    workstation: enrolled,

    /** A new install token's secret and id. */
    async installToken(options: { autoApprove?: boolean; maxUses?: number } = {}) {
      const created = await mutate(
        `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename
          ... on CreateInstallTokenPayload { installToken token { id } } ${ERRORS} } }`,
        { input: { tenantId: customer.id, ...options } },
        "createInstallToken",
        "CreateInstallTokenPayload",
      );
      return { secret: created.installToken as string, id: created.token.id as string };
    },

    /**
     * Puts a token's expiry in the past. Written to the database: waiting out
     * an hour is not an option, and the expiry is all that changes.
     */
    async expireInstallToken(id: string) {
      await api.db.installToken.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    },

    approve: (workstationId: string) =>
      mutate(
        `mutation($input: ApproveWorkstationInput!) { approveWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id } } ${ERRORS} } }`,
        { input: { id: workstationId } },
        "approveWorkstation",
        "WorkstationPayload",
      ),

    remove: (workstationId: string) =>
      mutate(
        `mutation($input: RemoveWorkstationInput!) { removeWorkstation(input: $input) { __typename ... on RemoveWorkstationPayload { workstationId } ${ERRORS} } }`,
        { input: { id: workstationId } },
        "removeWorkstation",
        "RemoveWorkstationPayload",
      ),

    settings: (settings: { desktopLoginEnabled?: boolean; method?: "PASSWORD" | "PASSWORDLESS"; passwordFallback?: boolean; brandingText?: string | null }) =>
      mutate(
        `mutation($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename ${ERRORS} } }`,
        { input: { tenantId: customer.id, ...settings } },
        "updateDesktopSettings",
        "UpdateDesktopSettingsPayload",
      ),

    /** Uploads a small PNG of one colour as the login screen's background or logo; returns its hash. */
    async brandingImage(kind: "BACKGROUND" | "LOGO", colour: number) {
      const png = await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: colour % 256, g: (colour * 7) % 256, b: 90 } } }).png().toBuffer();
      const query = `mutation($input: UploadBrandingImageInput!) { uploadBrandingImage(input: $input) { __typename
        ... on UploadBrandingImagePayload { tenant { desktopSettings { branding { background { hash } logo { hash } } } } } ${ERRORS} } }`;
      const form = new FormData();
      form.append("operations", JSON.stringify({ query, variables: { input: { tenantId: customer.id, kind, image: null } } }));
      form.append("map", JSON.stringify({ 0: ["variables.input.image"] }));
      form.append("0", new File([new Uint8Array(png)], "branding.png", { type: "image/png" }));
      // A multipart request, as the portal sends it, with yoga's CSRF header.
      const response = await fetch(`${api.url}/graphql`, { method: "POST", headers: { "x-graphql-yoga-csrf": "1", authorization: `Bearer ${msp.token}` }, body: form });
      const body = (await response.json()) as { data?: { uploadBrandingImage?: Record<string, any> } };
      const result = body.data?.uploadBrandingImage;
      if (result?.__typename !== "UploadBrandingImagePayload") throw new Error(`upload failed: ${JSON.stringify(body)}`);
      return result.tenant.desktopSettings.branding[kind === "BACKGROUND" ? "background" : "logo"].hash as string;
    },

    disableUser: (userId: string) =>
      mutate(
        `mutation($input: DisableUserInput!) { disableUser(input: $input) { __typename ${ERRORS} } }`,
        { input: { userId } },
        "disableUser",
        "DisableUserPayload",
      ),

    /**
     * Locks a directory account the way an attacker would: ten wrong passwords
     * (each a login started and never finished) from two other workstations of the tenant. Only workstations that failed
     * for the account are refused by the lock. Returns when it ends.
     */
    async lockUser(username: string) {
      const guessers = [await enrolled(), await enrolled()];
      let unlocksAt: string | null = null;
      for (let i = 0; i < 10; i += 1) {
        const guesser = guessers[i % 2]!;
        const answer = (await desktopPasswordLogin(api, () => guesser.credential(), username, `wrong-${i}-password`)) as { unlocksAt?: string };
        unlocksAt = answer.unlocksAt ?? unlocksAt;
      }
      await api.jobsSettled();
      const { users } = await api.gql(`query($u: String!, $t: ID!) { users(tenantId: $t, first: 1, search: $u) { edges { node { lockedUntil } } } }`, { u: username, t: customer.id }, asAdmin);
      return new Date(unlocksAt ?? users.edges[0].node.lockedUntil);
    },

    /** The customer's login events as its admins see them, newest first. */
    async loginEvents(): Promise<LoginEventRow[]> {
      const { loginEvents } = await api.gql(
        `query($t: ID!) { loginEvents(tenantId: $t, first: 100) { edges { node {
          id username method outcome reason accountOutcome accountDetail workstationId user { id } } } } }`,
        { t: customer.id },
        asAdmin,
      );
      return loginEvents.edges.map((edge: { node: LoginEventRow }) => edge.node);
    },

    /**
     * Sets up `user`'s phone with the `authenticator` command line at
     * `statePath`: enrolls it with the code emailed to the user, then onboards
     * it with an onboarding code the MSP's admin started. The admin's own phone
     * then waits for approval, which they give in the portal.
     */
    async phone(user: SeededUser, statePath: string) {
      const authenticator = (args: string[]) =>
        run(process.execPath, [AUTHENTICATOR_BIN, ...args, "--api", `${api.url}/graphql`, "--state", statePath], { timeout: 30_000 });
      await mutate(
        `mutation($email: String!) { requestEmailVerification(input: { email: $email }) { __typename ${ERRORS} } }`,
        { email: user.email },
        "requestEmailVerification",
        "RequestEmailVerificationPayload",
      );
      await authenticator(["enroll", "--email", user.email, "--code", await api.emailedCode(user.email), "--name", `${user.username}'s phone`]);
      const onboarding = await mutate(
        `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
          ... on StartDeviceOnboardingPayload { qrPayload } ${ERRORS} } }`,
        { userId: user.id },
        "startDeviceOnboarding",
        "StartDeviceOnboardingPayload",
      );
      await authenticator(["onboard", onboarding.qrPayload]);
      if (user.id === msp.adminId) await approvePhone(api, msp.token, (await readStateFile(statePath)).deviceId!);
      return { approve: (qrPayload: string) => authenticator(["approve", qrPayload]), deny: (qrPayload: string) => authenticator(["deny", qrPayload]) };
    },
  };
}

export type DesktopSeed = ReturnType<typeof desktopSeed>;
