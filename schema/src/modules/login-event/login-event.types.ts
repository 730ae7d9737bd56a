import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { LoginEventConnection } from "../../connections.ts";
import type { Context } from "../../context.ts";
import { visibleUsers } from "../../access.ts";
import { cursorIsInside } from "../../pagination.ts";
import { requestLoader } from "../../request-loaders.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { LOGIN_FAILURE_REASONS, type LoginFailureReason as Reason } from "./login-failure-reasons.ts";

export const LoginMethod = builder.enumType("LoginMethod", {
  description: "How a desktop login was attempted.",
  values: { PASSWORD: { description: "Typed the directory password." }, QR: { description: "Approved on the phone." } },
});
export const LoginOutcome = builder.enumType("LoginOutcome", {
  description: "Whether a desktop login attempt signed the user in.",
  values: {
    SUCCEEDED: { description: "Signed in: the workstation received an account instruction." },
    FAILED: { description: "Refused; `reason` says why." },
  } as const,
});
export const AccountOutcome = builder.enumType("AccountOutcome", {
  description: "What the agent did with the account instruction it received.",
  values: {
    CREATED: { description: "Created the local account." },
    TAKEN_OVER: { description: "Took over the existing local account of that name and set its password." },
    REFUSED: { description: "Refused: a local administrator or a reserved account." },
    PASSWORD_REJECTED: { description: "The workstation's local password policy rejected the password." },
  },
});

export const LoginFailureReason = builder.enumType("LoginFailureReason", {
  description: "Why a desktop login attempt failed. New reasons may be added.",
  values: Object.fromEntries(Object.entries(LOGIN_FAILURE_REASONS).map(([reason, description]) => [reason, { description }])) as {
    [R in Reason]: { description: string };
  },
});

export const LoginEvent = builder.prismaObject("LoginEvent", {
  interfaces: [NodeInterface],
  description: "One desktop login attempt on a workstation.",
  // Every column is read (all short): in Pothos' select mode each field of each row is mapped
  // to its selection again as it resolves, which cost the login history page a seventh of its
  // CPU, more than reading the few columns a page does not show.
  authScopes: (event) =>
    event.workstationId
      ? { $any: { tenantAdmin: event.tenantId, workstation: event.workstationId } }
      : { tenantAdmin: event.tenantId },
  fields: (t) => ({
    id: t.exposeID("id", { description: "The attempt's id; for a successful one, its account instruction's `attemptId`." }),
    username: t.exposeString("username", {
      nullable: true,
      description: "The directory user's username; null for a login that matched no user (see `loginPseudonym`).",
    }),
    loginPseudonym: t.exposeString("loginPseudonym", {
      nullable: true,
      description: "For a login that matched no user: a keyed hash of it, the same for repeated attempts. What was typed is never kept (it may be a password typed in the wrong box).",
    }),
    user: t.prismaField({
      type: "User",
      nullable: true,
      description: "The directory user, when there is one the viewer may see.",
      resolve: (query, event, _args, ctx) =>
        event.userId ? ctx.db.user.findFirst({ ...query, where: { AND: [{ id: event.userId }, visibleUsers(ctx.viewer)] } }) : null,
    }),
    workstationId: t.exposeID("workstationId", {
      nullable: true,
      description: "The workstation the attempt was made at, kept after it is removed; null when the attempt named none.",
    }),
    workstationName: t.exposeString("workstationName", {
      nullable: true,
      description: "The workstation's name when the attempt was made; null when the attempt named none.",
    }),
    method: t.expose("method", { type: LoginMethod, description: "How the user signed in, or tried to." }),
    outcome: t.expose("outcome", { type: LoginOutcome, description: "Whether the attempt signed the user in." }),
    reason: t.field({
      type: LoginFailureReason,
      nullable: true,
      description:
        "Why it failed; null for a login that succeeded. " +
        "A workstation reading its own history sees INVALID_CREDENTIALS for WRONG_PASSWORD, UNKNOWN_USER and NO_PASSWORD, as it was answered: it learns no more than the person at its keyboard.",
      // Stored as text; only LoginFailureReason values are ever written (login-event.service.ts).
      resolve: (event, _args, ctx) =>
        ctx.workstation && !ctx.viewer && event.reason && CREDENTIAL_REASONS.has(event.reason) ? "INVALID_CREDENTIALS" : (event.reason as Reason | null),
    }),
    accountOutcome: t.expose("accountOutcome", {
      type: AccountOutcome,
      nullable: true,
      description: "What the agent did with the local account, once it reported it (`reportAccountResult`); null until then, and always for a failed attempt.",
    }),
    accountDetail: t.exposeString("accountDetail", {
      nullable: true,
      description: "The agent's short explanation of `accountOutcome` (why an account was refused, say), at most 500 characters; null when it gave none.",
    }),
    passwordSynced: t.exposeBoolean("passwordSynced", {
      nullable: true,
      description:
        "False when a QR login could not hand the user's directory password to the workstation (the master key is on and the server cannot open it): " +
        "the agent set a password of its own there, so the user's directory password does not work on that workstation. Null when it does not apply.",
    }),
    ip: t.exposeString("ip", { nullable: true, description: "The IP address the attempt came from, as the API saw it; null if none was recorded." }),
    createdAt: t.expose("createdAt", {
      type: "DateTime",
      description: "When it was recorded: as it happened, or, for a password login nobody finished, once the server found it expired.",
    }),
  }),
});

const DAY_MS = 24 * 3600_000;

/** Reasons that tell an unknown user from a wrong password: for admins only. */
const CREDENTIAL_REASONS = new Set<string>(["WRONG_PASSWORD", "UNKNOWN_USER", "NO_PASSWORD"] satisfies Reason[]);

builder.queryFields((t) => ({
  loginEvents: t.prismaConnection({
    type: "LoginEvent",
    cursor: "id",
    nullable: true,
    description: "A customer tenant's desktop login history, newest first. Null for a tenant the viewer does not administer.",
    args: { tenantId: t.arg.id({ required: true, description: "The tenant whose desktop logins to list." }) },
    // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
    authScopes: (_root, args) => ({ tenantAdmin: String(args.tenantId) }),
    unauthorizedResolver: () => null,
    totalCount: (_parent, args, ctx) => ctx.db.loginEvent.count({ where: { tenantId: String(args.tenantId) } }),
    resolve: async (query, _root, args, ctx) => {
      const where = { tenantId: String(args.tenantId) };
      const inside = await cursorIsInside(query, async (id) => (await ctx.db.loginEvent.count({ where: { ...where, id } })) > 0);
      if (!inside) return [];
      return ctx.db.loginEvent.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    },
  }, LoginEventConnection),
  workstationLoginEvents: t.prismaField({
    type: ["LoginEvent"],
    deprecationReason: "Use `agentWorkstation { loginEvents }`, a connection; removed after 2027-06-30.",
    description: "For a desktop agent: its own workstation's recent login attempts, newest first.",
    args: {
      first: t.arg.int({
        defaultValue: 20,
        description: "How many attempts to return: 20 unless given; less than 1 counts as 1, more than 100 as 100.",
      }),
    },
    resolve: (query, _root, args, ctx) => {
      const workstation = requireWorkstation(ctx);
      return ctx.db.loginEvent.findMany({
        ...query,
        where: { workstationId: workstation.id },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: Math.min(Math.max(args.first ?? 20, 1), 100),
      });
    },
  }),
}));

type LoginCounts = { total: number; failed: number };

/** One grouped query per request for a whole page of tenants, not two counts per row. */
function loginCountsLast24h(ctx: Context, tenantId: string): Promise<LoginCounts> {
  return requestLoader<LoginCounts>(ctx, "loginCountsLast24h", async (tenantIds) => {
    const rows = await ctx.db.loginEvent.groupBy({
      by: ["tenantId", "outcome"],
      where: { tenantId: { in: [...tenantIds] }, createdAt: { gt: new Date(Date.now() - DAY_MS) } },
      _count: { _all: true },
    });
    return tenantIds.map((id) => {
      const mine = rows.filter((row) => row.tenantId === id);
      return {
        total: mine.reduce((sum, row) => sum + row._count._all, 0),
        failed: mine.filter((row) => row.outcome === "FAILED").reduce((sum, row) => sum + row._count._all, 0),
      };
    });
  }).load(tenantId);
}

builder.prismaObjectFields("Tenant", (t) => ({
  loginsLast24h: t.int({
    description: "Desktop login attempts in the last 24 hours, successful and failed together.",
    resolve: async (tenant, _args, ctx) => (await loginCountsLast24h(ctx, tenant.id)).total,
  }),
  successfulLoginsLast24h: t.int({
    description: "Desktop logins that succeeded in the last 24 hours.",
    resolve: async (tenant, _args, ctx) => {
      const counts = await loginCountsLast24h(ctx, tenant.id);
      return counts.total - counts.failed;
    },
  }),
  failedLoginsLast24h: t.int({
    description: "Failed desktop login attempts in the last 24 hours, those refused by a limit or a lock included.",
    resolve: async (tenant, _args, ctx) => (await loginCountsLast24h(ctx, tenant.id)).failed,
  }),
}));

builder.prismaObjectFields("Workstation", (t) => ({
  loginEvents: t.prismaConnection(
    {
      type: "LoginEvent",
      cursor: "id",
      description: "The workstation's desktop login attempts, newest first: for its tenant's admins, and for its own agent.",
      totalCount: (workstation, _args, ctx) => ctx.db.loginEvent.count({ where: { workstationId: workstation.id } }),
      resolve: async (query, workstation, _args, ctx) => {
        const where = { workstationId: workstation.id };
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.loginEvent.count({ where: { ...where, id } })) > 0);
        if (!inside) return [];
        return ctx.db.loginEvent.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      },
    },
    LoginEventConnection,
  ),
}));
