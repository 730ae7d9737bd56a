import { builder } from "../../builder.ts";
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { Authenticator } from "../authenticator/authenticator.types.ts";
import { User } from "../user/user.types.ts";
import { inviteUser, redeemInvitation } from "./invitation.service.ts";

const InviteUserInput = builder.inputType("InviteUserInput", {
  fields: (t) => ({ userId: t.id({ required: true, description: "The user to invite; any earlier invitation of theirs stops working." }) }),
});

const InviteUserPayload = builder.simpleObject("InviteUserPayload", {
  fields: (t) => ({
    user: t.field({ type: User, description: "The invited user." }),
    expiresAt: t.field({ type: "DateTime", description: "Until when the emailed code works." }),
  }),
});

const RedeemInvitationInput = builder.inputType("RedeemInvitationInput", {
  fields: (t) => ({ code: t.string({ required: true, description: "The code from the invitation email, as typed (case, hyphens and spaces do not matter)." }) }),
});

const InvitingOrganisation = builder.simpleObject("InvitingOrganisation", {
  description: "The tenant a phone joined through an invitation, as the phone shows it.",
  fields: (t) => ({
    id: t.id({ description: "The tenant's id." }),
    slug: t.string({ description: "The tenant's slug, also its address." }),
    displayName: t.string({ description: "The tenant's name as people see it." }),
  }),
});

const RedeemInvitationPayload = builder.simpleObject("RedeemInvitationPayload", {
  fields: (t) => ({
    authenticator: t.field({ type: Authenticator, description: "This phone, now linked to the invited user." }),
    tenant: t.field({ type: InvitingOrganisation, description: "The organisation the phone now approves sign-ins for." }),
  }),
});

builder.mutationFields((t) => ({
  inviteUser: t.field({
    type: InviteUserPayload,
    description:
      "Emails a user an invitation to link their phone: what to install, their organisation, and a single-use code valid 7 days. Asking again sends a new code and voids the old one. Admins of the user's tenant.",
    authScopes: { authenticated: true },
    errors: { types: [UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError], union: { name: "InviteUserResult" } },
    args: { input: t.arg({ type: InviteUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => inviteUser(ctx, { userId: String(input.userId) }),
  }),
  redeemInvitation: t.field({
    type: RedeemInvitationPayload,
    description:
      "Called by a phone that verified its user's email: presents the invitation code and links the phone to that user. Signs nobody in. NOT_FOUND when no invitation waits for the verified address.",
    errors: {
      types: [UnauthenticatedError, NotFoundError, ConflictError, ValidationError, RateLimitedError],
      union: { name: "RedeemInvitationResult" },
    },
    args: { input: t.arg({ type: RedeemInvitationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const authenticator = await redeemInvitation(ctx, input);
      const tenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: authenticator.tenantId! }, select: { id: true, slug: true, displayName: true } });
      return { authenticator, tenant };
    },
  }),
}));
