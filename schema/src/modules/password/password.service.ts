// Directory passwords by OPAQUE (RFC 9807): the server answers the two steps of
// a registration or a login and keeps only registration records; the password
// never reaches it.
//
// A registration allocates the credential identifier (the user's id, for a new
// user before its row exists) at its start and holds it ten minutes; its finish
// uploads the record and, for a customer user, the password sealed to the
// tenant's public key. signUpMsp, createUser and setUserPassword then consume a
// finished registration.
//
// A login's start is counted as a failed attempt for its account, client and
// workstation when it is made; a finish that proves the password gives that
// back. Unknown accounts take the same path with OPAQUE's fake record.
import { randomUUID } from "node:crypto";
import { Prisma, type PasswordLoginPurpose } from "@latchkey/db";
import { TENANT_PASSWORD_SUITE, type SealedSecret } from "@latchkey/passwords";
import { z } from "zod";
import type { Context, Services } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { databaseUnavailable } from "../../database-errors.ts";
import { isWireMessage } from "../../security/password-authentication.ts";
import type { SignInAdmission, SignInClient } from "../../security/sign-in-admission.ts";
import { isUuid, parseInput } from "../../validation.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";
import { findManagedUser } from "../user/user.service.ts";
import { recordPasswordFailure, tracePasswordFailure } from "../session/sign-in.ts";
import type { AuditAction } from "../audit/audit-actions.ts";
import { publishLoginEvent, recordLoginEvent } from "../login-event/login-event.service.ts";
import { holdEpoch } from "../../security/tenant-keys.ts";

/** How long a started login may be finished. */
export const LOGIN_STATE_TTL_MS = 60_000;
/** How long a registration (and the user id it allocated) is held. */
export const REGISTRATION_TTL_MS = 10 * 60_000;

/** A protocol message: base64url without padding. */
const wire = (max = 1024) => z.string().refine((value) => isWireMessage(value, max), "Expected base64url without padding");

// ---------------------------------------------------------------- registration

const startRegistrationInput = z.object({
  userId: z.string().nullish(),
  tenant: z.string().nullish(),
  request: wire(),
});

/**
 * Starts a registration: for an existing user (`userId`: the user themself, or
 * an admin who manages them), for a new user of a tenant the viewer
 * administers (`tenant`), or, signed out, for the first admin of an MSP
 * sign-up (neither). Customer tenants hand their public key for sealing.
 */
export async function startPasswordRegistration(ctx: Context, input: z.input<typeof startRegistrationInput>) {
  const data = parseInput(startRegistrationInput, input);
  const viewer = ctx.viewer;
  let userId: string;
  let tenant: { id: string; kind: "MSP" | "CUSTOMER" } | null;
  let passwordVersion: number;
  if (data.userId != null) {
    if (!viewer) throw new UnauthenticatedError();
    const user =
      data.userId === viewer.userId
        ? await ctx.db.user.findUniqueOrThrow({ where: { id: viewer.userId }, include: { tenant: true } })
        : await findManagedUser(ctx, data.userId);
    userId = user.id;
    tenant = user.tenant;
    passwordVersion = user.passwordVersion + 1;
  } else if (data.tenant != null) {
    if (!viewer) throw new UnauthenticatedError();
    tenant = await findAdministeredTenant(ctx, data.tenant);
    userId = randomUUID();
    passwordVersion = 1;
  } else {
    if (viewer) throw new ForbiddenError("Name the user (userId) or the tenant of a new user (tenant)");
    if (!ctx.config.signUpEnabled) throw new ForbiddenError("Sign-up is switched off on this server");
    await ctx.limits.consume("signUpRegistrationPerIp", ctx.request.ip);
    tenant = null;
    userId = randomUUID();
    passwordVersion = 1;
  }
  const response = protocolStep("request", () => ctx.passwordAuth.registrationResponse(userId, data.request));
  // A customer's passwords are sealed to its key: handed out as a signed statement, checked by the client.
  const tenantKey = tenant?.kind === "CUSTOMER" ? await ctx.tenantKeys.statementFor(ctx.db, tenant.id) : null;
  // ... and to each of the user's phones, which hand it to workstations at a QR login.
  const phones = tenant?.kind === "CUSTOMER" && data.userId != null ? await sealablePhones(ctx.db, [userId]) : [];
  const registration = await ctx.db.passwordRegistration.create({
    data: {
      id: randomUUID(),
      userId,
      tenantId: tenant?.id ?? null,
      startedById: viewer?.userId ?? null,
      ksf: ctx.passwordAuth.ksf,
      passwordVersion,
      sealedEpoch: tenantKey?.epoch ?? null,
      expiresAt: new Date(ctx.clock.now() + REGISTRATION_TTL_MS),
    },
  });
  return {
    registrationId: registration.id,
    response,
    ksf: registration.ksf,
    userId,
    serverIdentity: ctx.passwordAuth.serverIdentity,
    passwordVersion,
    tenantId: tenant?.id ?? null,
    tenantPublicKey: tenantKey?.publicKey ?? null,
    tenantKey,
    userPhones: phones,
  };
}

/** The approved, unrevoked phones of `userIds` with a key-agreement key: those a password is sealed to, as clients are handed them. */
export async function sealablePhones(db: Prisma.TransactionClient, userIds: string[]) {
  const phones = await db.authenticator.findMany({
    where: { userId: { in: userIds }, revokedAt: null, approvedAt: { not: null }, keyAgreementPublicKey: { not: null } },
    orderBy: { id: "asc" },
  });
  return phones.map((phone) => ({
    userId: phone.userId!,
    authenticatorId: phone.id,
    algorithm: phone.algorithm,
    publicKey: phone.publicKey,
    keyAgreementKey: phone.keyAgreementPublicKey!,
    keyAgreementSignature: phone.keyAgreementSignature!,
  }));
}

const sealedSecretInput = z.object({
  suite: z.string().refine((suite) => suite === TENANT_PASSWORD_SUITE, `Seal with ${TENANT_PASSWORD_SUITE}`),
  enc: wire(64),
  ciphertext: wire(1024),
});

const finishRegistrationInput = z.object({
  registrationId: z.string(),
  // A ristretto255 record is 192 bytes.
  record: wire(512),
  sealedPassword: sealedSecretInput.nullish(),
  phoneCopies: z.array(z.object({ authenticatorId: z.string().uuid(), sealed: sealedSecretInput })).max(20).nullish(),
});

/** Uploads the record (and the sealed password, for a customer user) to a registration the viewer started. */
export async function finishPasswordRegistration(ctx: Context, input: z.input<typeof finishRegistrationInput>) {
  const data = parseInput(finishRegistrationInput, input);
  const registration = await openRegistration(ctx, ctx.db, data.registrationId);
  const tenant = registration.tenantId ? await ctx.db.tenant.findUnique({ where: { id: registration.tenantId }, select: { kind: true } }) : null;
  const sealed = tenant?.kind === "CUSTOMER";
  if (sealed && !data.sealedPassword) {
    throw ValidationError.field("sealedPassword", "Seal the password to the tenant's public key (a customer's workstations need it)");
  }
  if (!sealed && data.sealedPassword) throw ValidationError.field("sealedPassword", "This user's password is never sealed");
  if (!sealed && data.phoneCopies?.length) throw ValidationError.field("phoneCopies", "This user's password is never sealed");
  const { count } = await ctx.db.passwordRegistration.updateMany({
    where: { id: registration.id, record: null, expiresAt: { gt: new Date(ctx.clock.now()) } },
    data: { record: data.record, sealedPassword: data.sealedPassword ?? undefined, phoneCopies: data.phoneCopies?.length ? data.phoneCopies : undefined },
  });
  if (count !== 1) throw new NotFoundError("Password registration");
  return { registrationId: registration.id };
}

type RegistrationStore = Pick<Prisma.TransactionClient, "passwordRegistration" | "tenantKeyPair">;

/** A registration the viewer started (or, signed out, a sign-up's), not expired; anything else is NOT_FOUND. */
async function openRegistration(ctx: Context, db: RegistrationStore, registrationId: string) {
  if (!isUuid(registrationId)) throw new NotFoundError("Password registration");
  const registration = await db.passwordRegistration.findUnique({ where: { id: registrationId } });
  if (
    !registration ||
    registration.expiresAt.getTime() <= ctx.clock.now() ||
    registration.startedById !== (ctx.viewer?.userId ?? null)
  ) {
    throw new NotFoundError("Password registration");
  }
  return registration;
}

export type FinishedRegistration = {
  userId: string;
  ksf: string;
  passwordVersion: number;
  record: string;
  sealedPassword: SealedSecret | null;
  sealedEpoch: number | null;
  phoneCopies: PhoneCopy[] | null;
};

/** The password sealed to one of the user's phones. */
export type PhoneCopy = { authenticatorId: string; sealed: SealedSecret };

/**
 * Consumes a finished registration inside the caller's transaction, once: for
 * `userId` when given (an existing user), and for a user of `tenantId` (null:
 * a sign-up). Anything else, unfinished or expired, is a VALIDATION error on
 * `field`.
 */
export async function takeRegistration(
  ctx: Context,
  tx: RegistrationStore,
  registrationId: string,
  expected: { userId?: string; tenantId: string | null },
  field = "passwordRegistrationId",
): Promise<FinishedRegistration> {
  const refused = () => ValidationError.field(field, "Register the password first (startPasswordRegistration, finishPasswordRegistration); registrations last ten minutes");
  const registration = await openRegistration(ctx, tx, registrationId).catch((error: unknown) => {
    // A database out of reach says nothing about the registration.
    throw databaseUnavailable(error) ? error : refused();
  });
  if (
    registration.record === null ||
    registration.tenantId !== expected.tenantId ||
    (expected.userId !== undefined && registration.userId !== expected.userId)
  ) {
    throw refused();
  }
  // Sealed to the key of one epoch: a switch to the next either waits for this password or refuses it.
  if (registration.sealedPassword !== null && registration.tenantId && registration.sealedEpoch !== null && !(await holdEpoch(tx, registration.tenantId, registration.sealedEpoch))) {
    throw new ConflictError("The customer's key changed while the password was being set: set it again", field);
  }
  const { count } = await tx.passwordRegistration.deleteMany({
    where: { id: registration.id, expiresAt: { gt: new Date(ctx.clock.now()) } },
  });
  if (count !== 1) throw refused();
  return {
    userId: registration.userId,
    ksf: registration.ksf,
    passwordVersion: registration.passwordVersion,
    record: registration.record,
    sealedPassword: (registration.sealedPassword as SealedSecret | null) ?? null,
    sealedEpoch: registration.sealedEpoch,
    phoneCopies: (registration.phoneCopies as PhoneCopy[] | null) ?? null,
  };
}

/** The user columns a finished registration sets. */
export function passwordColumns(registration: FinishedRegistration, now: Date) {
  return {
    opaqueRecord: registration.record,
    passwordKsf: registration.ksf,
    sealedPassword: registration.sealedPassword ?? Prisma.DbNull,
    sealedPasswordEpoch: registration.sealedPassword ? registration.sealedEpoch : null,
    // A new password replaces every phone's copy of the old one.
    phonePasswordCopies: registration.phoneCopies ?? Prisma.DbNull,
    passwordVersion: registration.passwordVersion,
    passwordChangedAt: now,
  };
}

// ---------------------------------------------------------------- login

/** What is sealed between the two steps. */
type LoginState = {
  opaque: string;
  clientIdentity: string;
  credentialIdentifier: string;
  userId: string | null;
  tenantId: string | null;
  account: string;
  client: SignInClient;
  /** Where the start came from, and the workstation's name: what a failed attempt is recorded with. */
  ip: string;
  workstationName: string | null;
};

export type StartedLogin = { loginId: string; response: string; ksf: string; clientIdentity: string; serverIdentity: string };

/**
 * The server's first step. `user` null (unknown login) or without a record
 * takes the same path with the fake record. Admitted first, then counted as a
 * failure at once; `tenant` names the tenant (its id, or `slug:<slug>`).
 */
export async function startLogin(
  ctx: Context,
  input: {
    purpose: PasswordLoginPurpose;
    tenant: string;
    tenantId: string | null;
    credentialIdentifier: string;
    user: { id: string; opaqueRecord: string | null; passwordKsf: string | null } | null;
    request: string;
    admission: SignInAdmission;
    client: SignInClient;
    /** Called when this start is the failure that locked the account. */
    onLocked: (locked: { since: Date; until: Date }) => Promise<void>;
  },
): Promise<StartedLogin> {
  if (!isWireMessage(input.request)) throw ValidationError.field("request", "Expected base64url without padding");
  const account = input.credentialIdentifier;
  await input.admission.admit(account, input.client);
  const clientIdentity = input.user?.id ?? ctx.passwordAuth.unknownClientIdentity(input.credentialIdentifier);
  const started = protocolStep("request", () =>
    ctx.passwordAuth.startLogin({
      credentialIdentifier: input.credentialIdentifier,
      clientIdentity,
      record: input.user?.opaqueRecord ?? null,
      request: input.request,
    }),
  );
  const { locked } = await input.admission.failed(account, input.client);
  if (locked) await input.onLocked(locked);
  const loginId = randomUUID();
  const subject = ctx.passwordAuth.subject(input.credentialIdentifier);
  const state: LoginState = {
    opaque: started.state,
    clientIdentity,
    credentialIdentifier: input.credentialIdentifier,
    userId: input.user?.id ?? null,
    tenantId: input.tenantId,
    account,
    client: input.client,
    ip: ctx.request.ip,
    workstationName: ctx.workstation?.name ?? null,
  };
  await ctx.db.passwordLogin.create({
    data: {
      id: loginId,
      purpose: input.purpose,
      tenant: input.tenant,
      subject,
      state: ctx.passwordAuth.sealLoginState({ loginId, tenant: input.tenant, subject }, state),
      expiresAt: new Date(ctx.clock.now() + LOGIN_STATE_TTL_MS),
    },
  });
  return {
    loginId,
    response: started.response,
    ksf: input.user?.passwordKsf ?? ctx.passwordAuth.ksf,
    clientIdentity,
    serverIdentity: ctx.passwordAuth.serverIdentity,
  };
}

export type FinishedLogin = { proved: boolean; state: LoginState };

/**
 * The server's second step: takes the started login (once: a conditional
 * delete only one instance wins), and checks the client's proof. Gives the
 * start's failure back when proved. An unknown, expired, already finished or
 * other-purpose login id is UNAUTHENTICATED.
 */
export async function finishLogin(
  ctx: Context,
  input: { loginId: string; finish: string; purposes: PasswordLoginPurpose[]; admission: SignInAdmission },
): Promise<FinishedLogin> {
  const gone = () => new UnauthenticatedError("This log in has expired or was already finished; start again");
  if (!isUuid(input.loginId)) throw gone();
  if (!isWireMessage(input.finish)) throw ValidationError.field("finish", "Expected base64url without padding");
  const row = await ctx.db.passwordLogin.findUnique({ where: { id: input.loginId } });
  if (!row || !input.purposes.includes(row.purpose)) throw gone();
  const taken = await ctx.db.passwordLogin.deleteMany({ where: { id: row.id, expiresAt: { gt: new Date(ctx.clock.now()) } } });
  if (taken.count !== 1) throw gone();
  let state: LoginState;
  try {
    state = ctx.passwordAuth.openLoginState<LoginState>({ loginId: row.id, tenant: row.tenant, subject: row.subject }, row.state);
  } catch {
    throw gone();
  }
  const proved = ctx.passwordAuth.finishLogin({ state: state.opaque, finish: input.finish, clientIdentity: state.clientIdentity });
  if (proved) await input.admission.refund(state.account, state.client);
  return { proved, state };
}

/**
 * Logins nobody finished in time: a wrong password (the client's own finish
 * failed, so it never sent one), an unknown account, or a client that gave up.
 * The server cannot tell these apart, so each is recorded as a failed attempt
 * once it expires, the way a wrong password always was: a login event on the
 * tenant's feed (desktop), or the audit trail of a failed log in (portal).
 * Each state is taken by a conditional delete, so two sweeps never record one
 * twice. Registrations nobody used are removed.
 */
export async function traceAbandonedLogins(services: Services, batch = 500) {
  const now = new Date(services.clock.now());
  const rows = await services.db.passwordLogin.findMany({ where: { expiresAt: { lte: now } }, orderBy: { expiresAt: "asc" }, take: batch });
  for (const row of rows) {
    const { count } = await services.db.passwordLogin.deleteMany({ where: { id: row.id } });
    if (count !== 1) continue;
    let state: LoginState;
    try {
      state = services.passwordAuth.openLoginState<LoginState>({ loginId: row.id, tenant: row.tenant, subject: row.subject }, row.state);
    } catch {
      services.log.warn("an expired login state did not open", { loginId: row.id });
      continue;
    }
    if (row.purpose === "DESKTOP" && state.tenantId && state.client.kind === "workstation") {
      const user = state.userId
        ? await services.db.user.findUnique({ where: { id: state.userId }, select: { id: true, username: true, opaqueRecord: true } })
        : null;
      const event = await recordLoginEvent(services.db, { request: { ip: state.ip, userAgent: null }, jobs: services.jobs, clock: services.clock }, {
        tenantId: state.tenantId,
        userId: user?.id ?? null,
        username: user?.username ?? null,
        loginPseudonym: user ? null : services.config.pseudonymize(state.account),
        workstation: { id: state.client.id, name: state.workstationName ?? "" },
        method: "PASSWORD",
        outcome: "FAILED",
        reason: !user ? "UNKNOWN_USER" : !user.opaqueRecord ? "NO_PASSWORD" : "WRONG_PASSWORD",
      });
      publishLoginEvent(services, event);
    } else {
      await tracePasswordFailure(services, {
        userId: state.userId,
        tenantId: state.tenantId,
        action: row.purpose === "PASSWORD_CHANGE" ? "user.passwordChangeFailed" : "session.logInFailed",
        locked: null,
        accountPseudonym: services.config.pseudonymize(state.account),
        ip: state.ip,
      });
    }
  }
  await services.db.passwordRegistration.deleteMany({ where: { expiresAt: { lte: now } } });
}

/** A malformed protocol message is the client's VALIDATION error, not an internal one. */
function protocolStep<T>(field: string, step: () => T): T {
  try {
    return step();
  } catch {
    throw ValidationError.field(field, "Not a valid OPAQUE message");
  }
}

/** After a finish that did not prove the password: the trace, as a wrong password always left. */
export async function recordWrongPassword(ctx: Context, state: LoginState, action: AuditAction | null) {
  await recordPasswordFailure(ctx, {
    user: state.userId && state.tenantId ? { id: state.userId, tenantId: state.tenantId } : null,
    tenantId: state.tenantId,
    account: state.account,
    action,
    locked: null,
  });
}
