// Builds test worlds through the public API, in the product's words:
//   const msp = await seed(api).msp(); const contoso = await msp.customer(); const user = await contoso.user();
import { Authenticator } from "@latchkey/mobile";
import { logInWithPassword, registerPassword } from "@latchkey/passwords";
import type { Api } from "./harness.ts";
import { unique } from "./harness.ts";

export const PASSWORD = "orbit-lantern-cascade-42";

const AUTH = `... on AuthPayload { token user { id email } tenant { id slug kind } } ... on Error { code message }`;

export type SeededUser = { id: string; email: string; username: string; password: string | null; tenantSlug: string; token: () => Promise<string> };

export function seed(api: Api) {
  // Only api.gql: some tests seed through a stand-in that has nothing else.
  const run = (token?: string | null) => (query: string, variables: Record<string, unknown>) => api.gql(query, variables, { token });

  /** A password log in by OPAQUE (both steps), returning the session token. */
  async function logIn(tenant: string, login: string, password: string) {
    const result = await logInWithPassword(run(), { tenant, login, password }, `__typename ${AUTH}`);
    if (result.__typename !== "AuthPayload") throw new Error(`log in failed: ${JSON.stringify(result)}`);
    return result.token as string;
  }

  async function createUser(
    adminToken: string,
    tenant: { id: string; slug: string },
    role: string,
    options: { password?: string | null; prefix?: string } = {},
  ): Promise<SeededUser> {
    const username = unique(options.prefix ?? "u").slice(0, 20);
    const email = `${username}@example.test`;
    const password = options.password === undefined ? PASSWORD : options.password;
    // The admin's client registers the password (and seals it for a customer's workstations).
    const registration = password ? await registerPassword(run(adminToken), { tenant: tenant.id, password }) : null;
    const data = await api.gql(
      `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
        ... on CreateUserPayload { user { id } } ... on Error { code message } } }`,
      {
        input: {
          tenantId: tenant.id, firstName: "Test", lastName: username, username, email, role,
          passwordRegistrationId: registration?.registrationId ?? null,
          // Test worlds sign their users in with the password they were given.
          requirePasswordChange: registration ? false : null,
        },
      },
      { token: adminToken },
    );
    if (data.createUser.__typename !== "CreateUserPayload") throw new Error(`createUser failed: ${JSON.stringify(data.createUser)}`);
    let token: string | null = null;
    return {
      id: data.createUser.user.id,
      email,
      username,
      password,
      tenantSlug: tenant.slug,
      token: async () => (token ??= await logIn(tenant.slug, email, password!)),
    };
  }

  function customerSeed(adminToken: string, customer: { id: string; slug: string; name: string }) {
    return {
      ...customer,
      user: (options?: { password?: string | null }) => createUser(adminToken, customer, "USER", options),
      admin: () => createUser(adminToken, customer, "ADMIN", { prefix: "a" }),
    };
  }

  return {
    logIn,
    /**
     * An MSP signed up with its owner's session. MSPs ask for the phone after every
     * password from sign-up on; tests about something else switch that off, as an admin
     * can, so that their staff sign in by password alone.
     */
    async msp(options: { signInRequiresPhone?: boolean } = {}) {
      const slug = unique("msp").toLowerCase();
      const email = `admin@${slug}.test`;
      const registration = await registerPassword(run(), { password: PASSWORD });
      const data = await api.gql(`mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename ${AUTH} } }`, {
        input: { slug, displayName: `MSP ${slug}`, firstName: "Ada", lastName: "Admin", email, passwordRegistrationId: registration.registrationId },
      });
      if (data.signUpMsp.__typename !== "AuthPayload") throw new Error(`signUpMsp failed: ${JSON.stringify(data.signUpMsp)}`);
      const payload = data.signUpMsp;
      const tenant = { id: payload.tenant.id as string, slug };
      const token = payload.token as string;
      if (!options.signInRequiresPhone) {
        const { updateTenantSettings } = await api.gql(
          `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename ... on Error { code message } } }`,
          { input: { tenantId: tenant.id, signInRequiresPhone: false } },
          { token },
        );
        if (updateTenantSettings.__typename !== "UpdateTenantSettingsPayload") throw new Error(`updateTenantSettings failed: ${JSON.stringify(updateTenantSettings)}`);
      }
      return {
        ...tenant,
        token,
        adminId: payload.user.id as string,
        adminEmail: email,
        async customer(name = unique("c").toLowerCase().replace(/[^a-z0-9]/g, "")) {
          const created = await api.gql(
            `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename
              ... on CreateCustomerPayload { customer { id slug name } } ... on Error { code message } } }`,
            { input: { name, displayName: `Customer ${name}` } },
            { token },
          );
          if (created.createCustomer.__typename !== "CreateCustomerPayload") {
            throw new Error(`createCustomer failed: ${JSON.stringify(created.createCustomer)}`);
          }
          return customerSeed(token, created.createCustomer.customer);
        },
        technician: () => createUser(token, tenant, "TECHNICIAN", { prefix: "t" }),
        admin: () => createUser(token, tenant, "ADMIN", { prefix: "a" }),
        async delegate(technicianId: string, customerId: string) {
          const result = await api.gql(
            `mutation($input: DelegateCustomerAccessInput!) { delegateCustomerAccess(input: $input) { __typename ... on Error { code message } } }`,
            { input: { technicianId, customerId } },
            { token },
          );
          if (result.delegateCustomerAccess.__typename !== "DelegateCustomerAccessPayload") {
            throw new Error(`delegate failed: ${JSON.stringify(result.delegateCustomerAccess)}`);
          }
        },
      };
    },
  };
}

const APPROVE_PHONE = `mutation($input: ApproveAuthenticatorInput!) { approveAuthenticator(input: $input) { __typename
  ... on ApproveAuthenticatorPayload { authenticator { id status } } ... on Error { code message } } }`;

/**
 * Approves a phone that waits for approval, as the holder of `token` does in
 * the portal: an admin who manages its user, or an admin their own phone when
 * they have no other (as an MSP's owner linking their first phone must).
 */
export async function approvePhone(api: Pick<Api, "gql">, token: string, authenticatorId: string) {
  const { approveAuthenticator } = await api.gql(APPROVE_PHONE, { input: { id: authenticatorId } }, { token });
  if (approveAuthenticator.__typename !== "ApproveAuthenticatorPayload") throw new Error(`approveAuthenticator failed: ${JSON.stringify(approveAuthenticator)}`);
}

/** An MSP admin's own phone, enrolled, linked and approved through the API, as the reference authenticator does it. */
export async function adminPhone(api: Api, msp: { token: string; adminId: string; adminEmail: string }) {
  const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
  await phone.requestEmailVerification(msp.adminEmail);
  await phone.verifyEmail(msp.adminEmail, await api.emailedCode(msp.adminEmail), "Admin's phone");
  const { startDeviceOnboarding } = await api.gql(
    `mutation($input: StartDeviceOnboardingInput!) { startDeviceOnboarding(input: $input) { __typename ... on StartDeviceOnboardingPayload { qrPayload } } }`,
    { input: { userId: msp.adminId } },
    { token: msp.token },
  );
  const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
  if (authenticator.status === "PENDING_APPROVAL") await approvePhone(api, msp.token, authenticator.id);
  return phone;
}

export type MspSeed = Awaited<ReturnType<ReturnType<typeof seed>["msp"]>>;
export type CustomerSeed = Awaited<ReturnType<MspSeed["customer"]>>;
