import { builder } from "../../builder.ts";
import { PhoneApprovalRequiredError } from "../../errors.ts";
import { Challenge } from "../challenge/challenge.types.ts";
import { ErrorInterface } from "../errors/errors.types.ts";
import { Tenant } from "../tenant/tenant.types.ts";
import { User } from "../user/user.types.ts";

export const TokenDelivery = builder.enumType("TokenDelivery", {
  values: {
    BEARER: { description: "Return the session token in the payload (agents, CLIs, integrations)." },
    COOKIE: { description: "Set an HttpOnly session cookie and return no token (the portal)." },
  },
});

export const SessionMethod = builder.enumType("SessionMethod", {
  values: {
    PASSWORD: { description: "A password alone." },
    QR: { description: "A QR code approved on the user's phone." },
    PASSWORD_AND_PHONE: { description: "A password, then a QR code approved on the user's own phone (the tenant's sign-in requires phone)." },
  },
});

builder.objectType(PhoneApprovalRequiredError, {
  name: "PhoneApprovalRequiredError",
  description:
    "The password was right and the tenant's sign-in requires phone: no session yet. Show `qrPayload` as a QR code, " +
    "watch the challenge with `watchToken` and redeem it with `redeemSecret` (redeemChallenge) once the user's own phone approves it.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    challenge: t.field({ type: Challenge, resolve: (error) => error.started.challenge }),
    qrPayload: t.string({ resolve: (error) => error.started.qrPayload }),
    watchToken: t.string({ resolve: (error) => error.started.watchToken }),
    redeemSecret: t.string({ resolve: (error) => error.started.redeemSecret }),
  }),
});

export const Session = builder.prismaObject("Session", {
  authScopes: (session) => ({ self: session.userId }),
  fields: (t) => ({
    id: t.exposeID("id"),
    method: t.expose("method", { type: SessionMethod }),
    ip: t.exposeString("ip", { nullable: true }),
    userAgent: t.exposeString("userAgent", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    idleExpiresAt: t.expose("idleExpiresAt", { type: "DateTime" }),
    current: t.boolean({
      description: "True for the session making this request.",
      resolve: (session, _args, ctx) => session.id === ctx.viewer?.sessionId,
    }),
  }),
});

export type AuthPayloadShape = { token: string | null; userId: string; tenantId: string };

export const AuthPayload = builder.objectRef<AuthPayloadShape>("AuthPayload").implement({
  description: "A new session. `token` is null when it was delivered as a cookie.",
  fields: (t) => ({
    token: t.exposeString("token", { nullable: true }),
    user: t.prismaField({
      type: User,
      resolve: (query, payload, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: payload.userId } }),
    }),
    tenant: t.prismaField({
      type: Tenant,
      resolve: (query, payload, _args, ctx) =>
        ctx.db.tenant.findUniqueOrThrow({ ...query, where: { id: payload.tenantId } }),
    }),
  }),
});

type ViewerShape = { userId: string; workingTenantId: string; sessionId: string };

export const Viewer = builder.objectRef<ViewerShape>("Viewer").implement({
  description: "Who is signed in, and in which tenant their session works.",
  fields: (t) => ({
    user: t.prismaField({
      type: User,
      resolve: (query, viewer, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: viewer.userId } }),
    }),
    tenant: t.prismaField({
      type: Tenant,
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.tenant.findUniqueOrThrow({ ...query, where: { id: viewer.workingTenantId } }),
    }),
    session: t.prismaField({
      type: Session,
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.session.findUniqueOrThrow({ ...query, where: { id: viewer.sessionId } }),
    }),
  }),
});
