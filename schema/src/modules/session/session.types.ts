import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { PhoneApprovalRequiredError } from "../../errors.ts";
import { Challenge } from "../challenge/challenge.types.ts";
import { ErrorInterface } from "../errors/errors.types.ts";
import { Tenant } from "../tenant/tenant.types.ts";
import { User } from "../user/user.types.ts";

export const TokenDelivery = builder.enumType("TokenDelivery", {
  description: "How a new session's token is handed to the client.",
  values: {
    BEARER: { description: "Return the session token in the payload (agents, CLIs, integrations)." },
    COOKIE: { description: "Set an HttpOnly session cookie and return no token (the portal)." },
  },
});

export const SessionMethod = builder.enumType("SessionMethod", {
  description: "How a session's user proved who they are when it opened.",
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
    challenge: t.field({
      type: Challenge,
      description: "The PORTAL_LOGIN challenge waiting for the user's own phone.",
      resolve: (error) => error.started.challenge,
    }),
    qrPayload: t.string({ description: "What to show as a QR code for the user's phone to scan.", resolve: (error) => error.started.qrPayload }),
    watchToken: t.string({
      description: "Lets this client follow the challenge without a session: `challenge(id, watchToken)` or the `challengeUpdated` subscription.",
      resolve: (error) => error.started.watchToken,
    }),
    redeemSecret: t.string({
      description: "Proves this client asked: give it to `redeemChallenge` once the phone approved, to open the session. Keep it to this client.",
      resolve: (error) => error.started.redeemSecret,
    }),
  }),
});

export const Session = builder.prismaObject("Session", {
  description:
    "A signed-in session of a user (a browser, CLI or integration), visible to that user only. It ends at logout or revocation, at `expiresAt`, " +
    "or when unused until `idleExpiresAt`; also when the user is disabled or deleted, or their role or password changes.",
  authScopes: (session) => ({ self: session.userId }),
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id", { description: "The session's id (not its token)." }),
    method: t.expose("method", { type: SessionMethod, description: "How the user proved who they are when it opened." }),
    ip: t.exposeString("ip", { nullable: true, description: "The client address it was opened from, as the API saw it; null when not recorded." }),
    userAgent: t.exposeString("userAgent", {
      nullable: true,
      description: "The User-Agent header of the client that opened it (at most 512 characters); null when it sent none.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it opened." }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", description: "When it was last used, to within a minute." }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      description: "When it ends however much it is used: its opening plus the server's maximum session age (12 hours unless configured otherwise).",
    }),
    idleExpiresAt: t.expose("idleExpiresAt", {
      type: "DateTime",
      description:
        "When it ends unless used before: use moves this on to the server's idle limit from then (60 minutes unless configured otherwise), never past `expiresAt`.",
    }),
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
    token: t.exposeString("token", {
      nullable: true,
      description: "The session token, for `Authorization: Bearer <token>`; null when it was set as a cookie (COOKIE). Keep it secret: it is the session.",
    }),
    user: t.prismaField({
      type: User,
      description: "The signed-in user.",
      resolve: (query, payload, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: payload.userId } }),
    }),
    tenant: t.prismaField({
      type: Tenant,
      description: "The tenant the session works in (see `Viewer.tenant`).",
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
      description: "The signed-in user.",
      resolve: (query, viewer, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: viewer.userId } }),
    }),
    tenant: t.prismaField({
      type: Tenant,
      description:
        "The tenant the session works in: the user's own, or, for MSP staff who signed in with their phone on a customer's sign-in page, that customer.",
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.tenant.findUniqueOrThrow({ ...query, where: { id: viewer.workingTenantId } }),
    }),
    session: t.prismaField({
      type: Session,
      description: "The session making this request.",
      resolve: (query, viewer, _args, ctx) =>
        ctx.db.session.findUniqueOrThrow({ ...query, where: { id: viewer.sessionId } }),
    }),
  }),
});
