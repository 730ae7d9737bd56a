// The fuzzer's world: MSP A, whose staff and machines make every request, and
// MSP B, the victim, whose rows are hashed before and after. Each has customers,
// users, a workstation, an install token, an API key, a webhook, a phone and a
// sign-in challenge; A's callers' own credentials are kept out of the ids the
// fuzzer draws from, so that it cannot sign the run out by revoking them.
import type { Api } from "../harness.ts";
import { desktopSeed } from "../desktop-seed.ts";
import { adminPhone, seed, type MspSeed } from "../seed.ts";
import { startLogin, startRegistration } from "@latchkey/passwords";
import { WorkstationKeys } from "../workstation-keys.ts";

/** Someone making requests, and how to tell they are still signed in. */
export type Caller = {
  name: string;
  /** The bearer credential for one request (a workstation signs a fresh one each time); null: none. */
  credential: () => Promise<string | null>;
  /** Whether the caller's sign-in ends with `revokeCurrentSession`/`logOut`. */
  session: boolean;
  /**
   * After the first round, the chance that a round calls a field as this
   * caller: callers who can do little are asked less once they have been
   * through every field, leaving the time to the admin's requests.
   */
  weight: number;
  /** A request that answers `expected` as long as the caller's credential works. */
  alive?: { query: string; variables: Record<string, unknown>; expected: string };
};

const ERRORS = `... on Error { code message }`;

async function mutate(api: Api, token: string | null, query: string, variables: Record<string, unknown>, field: string, expected: string) {
  const data = await api.gql(query, variables, { token });
  if (data[field].__typename !== expected) throw new Error(`${field} failed: ${JSON.stringify(data[field])}`);
  return data[field];
}

function apiKey(api: Api, msp: MspSeed, name: string, permissions: string[]) {
  return mutate(
    api,
    msp.token,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { apiKey key { id } } ${ERRORS} } }`,
    { input: { tenantId: msp.id, name, permissions, allCustomers: true } },
    "createApiKey",
    "CreateApiKeyPayload",
  ) as Promise<{ apiKey: string; key: { id: string } }>;
}

function webhook(api: Api, msp: MspSeed, tenantId: string, url: string) {
  return mutate(
    api,
    msp.token,
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename ... on CreateWebhookPayload { webhook { id } } ${ERRORS} } }`,
    // Workstation changes only: nothing the run does on purpose emits one for the victim, so no delivery is under way while its rows are compared.
    { input: { tenantId, url, events: ["WORKSTATION_CHANGED"] } },
    "createWebhook",
    "CreateWebhookPayload",
  ) as Promise<{ webhook: { id: string } }>;
}

/** A sign-in QR code shown on a tenant's portal page, as anyone may start one. */
function loginChallenge(api: Api, slug: string) {
  return mutate(
    api,
    null,
    `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename ... on StartLoginChallengePayload { challenge { id } } ${ERRORS} } }`,
    { input: { kind: "PORTAL_LOGIN", tenant: slug } },
    "startLoginChallenge",
    "StartLoginChallengePayload",
  ) as Promise<{ challenge: { id: string } }>;
}

/**
 * Both MSPs, built the same way; what differs is who makes requests. `customer`
 * holds the workstation that calls as A (kept out of A's ids, so the run cannot
 * remove it); `target` holds everything else, for the fuzzer to act on.
 */
async function msp(api: Api, webhookUrl: string, permissions: string[]) {
  const s = seed(api);
  const owner = await s.msp();
  const [customer, target] = await Promise.all([owner.customer(), owner.customer()]);
  const technician = await owner.technician();
  await owner.delegate(technician.id, target.id);
  const [user, customerAdmin] = await Promise.all([target.user(), target.admin()]);
  await Promise.all([user.token(), technician.token()]);
  const desktop = desktopSeed(api, owner, target);
  const [workstation, spareWorkstation, installToken, key, spareKey] = await Promise.all([
    desktopSeed(api, owner, customer).workstation(),
    desktop.workstation(),
    desktop.installToken({ maxUses: 5 }),
    apiKey(api, owner, "fuzzing", permissions),
    apiKey(api, owner, "spare", permissions.slice(0, 1)),
  ]);
  await desktop.brandingImage("LOGO", owner.slug.length);
  const hook = await webhook(api, owner, target.id, webhookUrl);
  const phone = await adminPhone(api, owner);
  const challenge = await loginChallenge(api, owner.slug);
  return { owner, customer, target, technician, user, customerAdmin, workstation, spareWorkstation, installToken, key, spareKey, hook, phone, challenge };
}

export type World = Awaited<ReturnType<typeof world>>;

/** `permissions`: every API key permission there is, for A's key to hold. */
export async function world(api: Api, webhookUrl: string, permissions: string[]) {
  const [a, b] = await Promise.all([msp(api, webhookUrl, permissions), msp(api, webhookUrl, permissions)]);
  const phoneId = (phone: typeof a.phone) => phone.deviceId!;
  const sessionsOf = async (userIds: string[]) => (await api.db.session.findMany({ where: { userId: { in: userIds } }, select: { id: true } })).map((s) => s.id);

  const callers: Caller[] = [
    {
      name: "A's admin",
      credential: async () => a.owner.token,
      session: true,
      weight: 1,
      alive: { query: `query { viewer { user { id } } }`, variables: {}, expected: a.owner.adminId },
    },
    {
      name: "A's technician",
      credential: () => a.technician.token(),
      session: true,
      weight: 0.6,
      alive: { query: `query { viewer { user { id } } }`, variables: {}, expected: a.technician.id },
    },
    {
      name: "A's API key",
      credential: async () => a.key.apiKey,
      session: false,
      weight: 0.6,
      alive: { query: `query($id: ID!) { tenant(id: $id) { id } }`, variables: { id: a.owner.id }, expected: a.owner.id },
    },
    {
      name: "A's workstation",
      credential: () => a.workstation.credential(),
      session: false,
      weight: 0.4,
      alive: { query: `query { agentWorkstation { id } }`, variables: {}, expected: a.workstation.workstationId },
    },
    {
      name: "A's admin's phone",
      credential: async () => a.phone.deviceToken,
      session: false,
      weight: 0.4,
      alive: { query: `query($id: ID!) { node(id: $id) { id } }`, variables: { id: phoneId(a.phone) }, expected: phoneId(a.phone) },
    },
    { name: "signed out", credential: async () => null, session: false, weight: 0.4 },
  ];

  // The callers' own credentials and where they live: revoking one would end the run's view of the API, not find a bug.
  const protectedIds = [
    a.owner.adminId,
    a.technician.id,
    a.key.key.id,
    a.workstation.workstationId,
    phoneId(a.phone),
    a.customer.id,
    ...(await sessionsOf([a.owner.adminId, a.technician.id])),
  ];

  // Well-formed client messages and keys, so some requests get past format checks.
  const opaqueMessages = (await Promise.all([startLogin("orbit-lantern-cascade-42"), startLogin("wrong-password-1"), startRegistration("another-long-password-7")])).map(
    (start) => start.request,
  );
  const publicKeys = [WorkstationKeys.generate().publicKey, WorkstationKeys.generate("p256").publicKey, a.workstation.keyAgreementKey];

  const victimEmails = [b.owner.adminEmail, b.technician.email, b.user.email, b.customerAdmin.email];
  return {
    a,
    b,
    callers,
    protectedIds,
    victim: { tenantIds: [b.owner.id, b.customer.id, b.target.id], emails: victimEmails },
    own: { tenantIds: [a.owner.id, a.target.id] },
    plausible: {
      emails: [...victimEmails, a.owner.adminEmail, a.user.email, a.customerAdmin.email],
      names: [b.owner.slug, b.target.slug, b.target.name, b.user.username, b.customerAdmin.username, a.owner.slug, a.target.slug, a.user.username],
      opaqueMessages,
      publicKeys,
    },
  };
}
