// Nobody can stop another person from signing in by spending a budget they
// share: strangers' failures and requests are charged to the strangers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { seed } from "./seed.ts";

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on Error { code } } }`;

describe("showing a QR code to sign in", () => {
  let api: Api;
  beforeAll(async () => {
    // Small budgets, so a few requests stand for a flood; addresses come from X-Forwarded-For.
    api = await Api.start({
      TRUSTED_PROXIES: "loopback",
      RATE_LIMIT_OVERRIDES: JSON.stringify({
        challengeStartPerIp: { points: 3, durationSeconds: 600 },
        // Not a budget any more: a deployment still naming it must not bring it back.
        challengeStartPerTenant: { points: 20, durationSeconds: 600 },
      }),
    });
  });
  afterAll(() => api?.stop());

  it("stays possible for a new address however many other addresses used up their own budgets", async () => {
    const msp = await seed(api).msp();
    const start = (address: string) =>
      api.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } }, { headers: { "x-forwarded-for": address } });
    for (let n = 1; n <= 25; n += 1) {
      const address = `198.18.0.${n}`;
      for (let i = 0; i < 3; i += 1) expect((await start(address)).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
      expect((await start(address)).startLoginChallenge.code, address).toBe("RATE_LIMITED");
    }
    expect((await start("203.0.113.50")).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
  });
});
