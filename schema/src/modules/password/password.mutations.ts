import { builder } from "../../builder.ts";
import { ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { FinishPasswordRegistrationPayload, SealedSecretInput, StartPasswordRegistrationPayload } from "./password.types.ts";
import { finishPasswordRegistration, startPasswordRegistration } from "./password.service.ts";

const StartPasswordRegistrationInput = builder.inputType("StartPasswordRegistrationInput", {
  description:
    "Whose password: `userId` for an existing user (yourself, or a user you manage), `tenant` (its id) for a new user of a tenant you administer, " +
    "neither for the first admin of an MSP sign-up (signed out).",
  fields: (t) => ({
    userId: t.id({ description: "An existing user whose password this is: the viewer, or a user the viewer manages (NOT_FOUND for anyone else)." }),
    tenant: t.id({
      description: "For a new user: the id of the tenant they will belong to, one the viewer administers (NOT_FOUND otherwise). Ignored when `userId` is given.",
    }),
    request: t.string({ required: true, description: "The OPAQUE registration request, base64url without padding." }),
  }),
});

export const PhoneCopyInput = builder.inputType("PhoneCopyInput", {
  description: "The password sealed to one of the user's phones.",
  fields: (t) => ({
    authenticatorId: t.id({ required: true, description: "The phone." }),
    sealed: t.field({ type: SealedSecretInput, required: true, description: "HPKE to its key-agreement key, info `latchkey phone password v1`." }),
  }),
});

const FinishPasswordRegistrationInput = builder.inputType("FinishPasswordRegistrationInput", {
  fields: (t) => ({
    registrationId: t.id({
      required: true,
      description: "What `startPasswordRegistration` returned, finished within ten minutes by the viewer who started it (signed out, for a sign-up); NOT_FOUND otherwise.",
    }),
    record: t.string({ required: true, description: "The OPAQUE registration record, base64url without padding." }),
    sealedPassword: t.field({
      type: SealedSecretInput,
      description: "Required for a customer tenant's user (sealed to `tenantPublicKey`); absent for MSP users.",
    }),
    phoneCopies: t.field({
      type: [PhoneCopyInput],
      description: "The password sealed to each of `userPhones` that vouches for its key (see @latchkey/passwords phone-copies).",
    }),
  }),
});

builder.mutationFields((t) => ({
  startPasswordRegistration: t.field({
    type: StartPasswordRegistrationPayload,
    description: "First step of registering a password with OPAQUE: the server never sees the password.",
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError, RateLimitedError],
      union: { name: "StartPasswordRegistrationResult" },
    },
    args: { input: t.arg({ type: StartPasswordRegistrationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      startPasswordRegistration(ctx, {
        userId: input.userId == null ? null : String(input.userId),
        tenant: input.tenant == null ? null : String(input.tenant),
        request: input.request,
      }),
  }),
  finishPasswordRegistration: t.field({
    type: FinishPasswordRegistrationPayload,
    description: "Uploads the registration record (and, for a customer user, the password sealed to the tenant's key).",
    errors: { types: [NotFoundError, ValidationError], union: { name: "FinishPasswordRegistrationResult" } },
    args: { input: t.arg({ type: FinishPasswordRegistrationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      finishPasswordRegistration(ctx, {
        ...input,
        registrationId: String(input.registrationId),
        sealedPassword: input.sealedPassword ?? null,
        phoneCopies: (input.phoneCopies ?? []).map((copy) => ({ ...copy, authenticatorId: String(copy.authenticatorId) })),
      }),
  }),
}));
