import { builder } from "../../builder.ts";
import { SessionConnection } from "../../connections.ts";
import { cursorIsInside } from "../../pagination.ts";
import { convertedInputDescription, deprecatedFor, inputOrPositional, positionalDeprecation } from "../../deprecations.ts";
import {
  AccountLockedError,
  ForbiddenError,
  NotFoundError,
  PhoneApprovalRequiredError,
  RateLimitedError,
    UnauthenticatedError,
  ValidationError,
} from "../../errors.ts";
import { AuthPayload, Session, TokenDelivery, Viewer } from "./session.types.ts";
import { activeSessionsOf, finishPasswordLogIn, logOut, revokeOtherSessions, revokeSession, startPasswordLogIn } from "./session.service.ts";
import { StartPasswordLogInPayload } from "../password/password.types.ts";

const StartPasswordLogInInput = builder.inputType("StartPasswordLogInInput", {
  fields: (t) => ({
    tenant: t.string({ required: true, description: "The tenant's slug (subdomain)." }),
    login: t.string({ required: true, description: "Company email or username." }),
    request: t.string({ required: true, description: "The client's OPAQUE login request (KE1), base64url without padding." }),
  }),
});

const FinishPasswordLogInInput = builder.inputType("FinishPasswordLogInInput", {
  fields: (t) => ({
    loginId: t.id({ required: true, description: "The `loginId` startPasswordLogIn answered: good once, for 60 seconds." }),
    finish: t.string({ required: true, description: "The client's OPAQUE finish message (KE3), base64url without padding." }),
    tokenDelivery: t.field({ type: TokenDelivery, defaultValue: "BEARER", description: "How the new session's token is handed over." }),
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
    deprecationReason: deprecatedFor("viewer.sessions"),
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) => ctx.db.session.findMany({ ...query, where: activeSessionsOf(ctx), orderBy: { createdAt: "desc" } }),
  }),
}));

builder.objectField(Viewer, "sessions", (t) =>
  t.prismaConnection(
    {
      type: Session,
      cursor: "id",
      description: "The viewer's active sessions (this one included), newest first.",
      totalCount: (_viewer, _args, ctx) => ctx.db.session.count({ where: activeSessionsOf(ctx) }),
      resolve: async (query, _viewer, _args, ctx) => {
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.session.count({ where: { userId: ctx.viewer!.userId, id } })) > 0);
        if (!inside) return [];
        return ctx.db.session.findMany({ ...query, where: activeSessionsOf(ctx), orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      },
    },
    SessionConnection,
  ),
);

const SESSION_TO_REVOKE = "The session's id, from `viewer.sessions`: one of the viewer's own (NOT_FOUND otherwise).";

const RevokeSessionInput = builder.inputType("RevokeSessionInput", {
  fields: (t) => ({ id: t.id({ required: true, description: SESSION_TO_REVOKE }) }),
});

const RevokeSessionPayload = builder.simpleObject("RevokeSessionPayload", {
  fields: (t) => ({ revokedSessionId: t.id({ description: "The id of the session that ended." }) }),
});

const RevokeCurrentSessionPayload = builder.simpleObject("RevokeCurrentSessionPayload", {
  fields: (t) => ({ revokedSessionId: t.id({ description: "The id of the session that ended: the one the request was made with." }) }),
});

const RevokeOtherSessionsPayload = builder.simpleObject("RevokeOtherSessionsPayload", {
  fields: (t) => ({ revokedCount: t.int({ description: "How many of the viewer's other sessions ended." }) }),
});

builder.mutationFields((t) => ({
  startPasswordLogIn: t.field({
    type: StartPasswordLogInPayload,
    description:
      "First step of a password log in with OPAQUE (the password never leaves the client). Counts as a failed attempt " +
      "until finishPasswordLogIn proves the password; unknown logins are answered alike.",
    errors: {
      types: [ValidationError, RateLimitedError, AccountLockedError],
      union: { name: "StartPasswordLogInResult" },
    },
    args: { input: t.arg({ type: StartPasswordLogInInput, required: true }) },
    resolve: (_root, { input }, ctx) => startPasswordLogIn(ctx, input),
  }),
  finishPasswordLogIn: t.field({
    type: AuthPayload,
    description:
      "Second step: the client's proof. Opens the session, its token delivered as `tokenDelivery` asks. A login id is good once, for 60 seconds. " +
      "Where the user's tenant requires the phone as well, answers PhoneApprovalRequiredError (a QR code for the user's own phone) instead, " +
      "or FORBIDDEN with code PHONE_REQUIRED when the user has no approved phone.",
    errors: {
      types: [ValidationError, UnauthenticatedError, ForbiddenError, RateLimitedError, PhoneApprovalRequiredError],
      union: { name: "FinishPasswordLogInResult" },
    },
    args: { input: t.arg({ type: FinishPasswordLogInInput, required: true }) },
    resolve: (_root, { input }, ctx) => finishPasswordLogIn(ctx, { ...input, loginId: String(input.loginId) }),
  }),
  logOut: t.boolean({
    description: "Ends the current session (and clears the portal's cookie). False when not signed in.",
    deprecationReason: deprecatedFor("revokeCurrentSession"),
    resolve: async (_root, _args, ctx) => (await logOut(ctx)) !== null,
  }),
  // Nothing to pass, so no `input`: an input object needs at least one field.
  revokeCurrentSession: t.field({
    type: RevokeCurrentSessionPayload,
    description:
      "Signs out: ends the session the request is made with, and its open subscriptions, and clears the portal's session cookie. " +
      "UNAUTHENTICATED when the request has no session; the cookie is cleared all the same, so a stale one goes too.",
    errors: { types: [UnauthenticatedError], union: { name: "RevokeCurrentSessionResult" } },
    resolve: async (_root, _args, ctx) => {
      const revokedSessionId = await logOut(ctx);
      if (revokedSessionId === null) throw new UnauthenticatedError();
      return { revokedSessionId };
    },
  }),
  revokeSession: t.field({
    type: RevokeSessionPayload,
    description: "Ends one of the viewer's own sessions; its open subscriptions close at once.",
    errors: { types: [UnauthenticatedError, NotFoundError, ValidationError], union: { name: "RevokeSessionResult" } },
    args: {
      input: t.arg({ type: RevokeSessionInput, description: convertedInputDescription("revokeSession") }),
      id: t.arg.id({ description: SESSION_TO_REVOKE, deprecationReason: positionalDeprecation("id") }),
    },
    resolve: async (_root, args, ctx) => {
      const { id } = inputOrPositional(args.input, { id: args.id }, ["id"]);
      return { revokedSessionId: await revokeSession(ctx, String(id)) };
    },
  }),
  revokeOtherSessions: t.field({
    type: RevokeOtherSessionsPayload,
    description: "Signs the viewer out everywhere but here.",
    errors: { types: [UnauthenticatedError], union: { name: "RevokeOtherSessionsResult" } },
    resolve: async (_root, _args, ctx) => ({ revokedCount: await revokeOtherSessions(ctx) }),
  }),
}));
