import { builder } from "../../builder.ts";
import { AccountLockedError, ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { AuthPayload, Session, TokenDelivery, Viewer } from "./session.types.ts";
import { logIn, logOut, revokeOtherSessions, revokeSession } from "./session.service.ts";

const LogInInput = builder.inputType("LogInInput", {
  fields: (t) => ({
    tenant: t.string({ required: true, description: "The tenant's slug (subdomain)." }),
    login: t.string({ required: true, description: "Company email or username." }),
    password: t.string({ required: true }),
    tokenDelivery: t.field({ type: TokenDelivery, defaultValue: "BEARER" }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    nullable: true,
    description: "The signed-in user and tenant; null when signed out.",
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
  sessions: t.prismaField({
    type: [Session],
    description: "The viewer's active sessions, newest first.",
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.db.session.findMany({
        ...query,
        where: {
          userId: ctx.viewer!.userId,
          revokedAt: null,
          expiresAt: { gt: new Date(ctx.clock.now()) },
          idleExpiresAt: { gt: new Date(ctx.clock.now()) },
        },
        orderBy: { createdAt: "desc" },
      }),
  }),
}));

const RevokeSessionPayload = builder.simpleObject("RevokeSessionPayload", {
  fields: (t) => ({ revokedSessionId: t.id() }),
});

const RevokeOtherSessionsPayload = builder.simpleObject("RevokeOtherSessionsPayload", {
  fields: (t) => ({ revokedCount: t.int() }),
});

builder.mutationFields((t) => ({
  logIn: t.field({
    type: AuthPayload,
    errors: {
      types: [ValidationError, UnauthenticatedError, ForbiddenError, RateLimitedError, AccountLockedError],
      union: { name: "LogInResult" },
    },
    args: { input: t.arg({ type: LogInInput, required: true }) },
    resolve: (_root, { input }, ctx) => logIn(ctx, input),
  }),
  logOut: t.boolean({
    description: "Ends the current session (and clears the portal's cookie). False when not signed in.",
    resolve: (_root, _args, ctx) => logOut(ctx),
  }),
  revokeSession: t.field({
    type: RevokeSessionPayload,
    description: "Ends one of the viewer's own sessions; its open subscriptions close at once.",
    errors: { types: [UnauthenticatedError, NotFoundError], union: { name: "RevokeSessionResult" } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => ({ revokedSessionId: await revokeSession(ctx, String(args.id)) }),
  }),
  revokeOtherSessions: t.field({
    type: RevokeOtherSessionsPayload,
    description: "Signs the viewer out everywhere but here.",
    errors: { types: [UnauthenticatedError], union: { name: "RevokeOtherSessionsResult" } },
    resolve: async (_root, _args, ctx) => ({ revokedCount: await revokeOtherSessions(ctx) }),
  }),
}));
