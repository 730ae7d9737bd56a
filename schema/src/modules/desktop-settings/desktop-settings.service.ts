import type { BrandingImageKind, DesktopLoginMethod, Prisma, Tenant } from "@latchkey/db";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { ValidationError } from "../../errors.ts";
import { parseInput } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";
import { MAX_BRANDING_IMAGE_BYTES, encodeBrandingImage, type EncodedBrandingImage } from "./branding-image.ts";

export const BRANDING_TEXT_MAX_LENGTH = 500;

/**
 * The login screen shows this text verbatim, so it is stored exactly as typed
 * and never escaped or sanitised here: every client renders it as text. What
 * is refused is what could disguise it: control characters other than line
 * breaks, bidirectional overrides (text that reads differently from how it is
 * stored), and broken UTF-16 that the database could not hold.
 */
export const brandingText = z
  .string()
  .max(BRANDING_TEXT_MAX_LENGTH, `Use at most ${BRANDING_TEXT_MAX_LENGTH} characters`)
  .refine((text) => !/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text), "Control characters are not allowed (line breaks are)")
  .refine((text) => !/[\u202a-\u202e\u2066-\u2069]/.test(text), "Text direction overrides are not allowed")
  .refine(
    (text) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text),
    "The text is not valid Unicode",
  );

const settingsInput = z.object({
  tenantId: z.string(),
  desktopLoginEnabled: z.boolean().nullish(),
  method: z.enum(["PASSWORD", "PASSWORDLESS"]).nullish(),
  passwordFallback: z.boolean().nullish(),
  brandingText: brandingText.nullish(),
});

export type DesktopSettingsInput = {
  tenantId: string;
  desktopLoginEnabled?: boolean | null;
  method?: DesktopLoginMethod | null;
  passwordFallback?: boolean | null;
  /** Omitted: unchanged. Null or blank: removed. */
  brandingText?: string | null;
};

/** Desktop login exists for customers' workstations only; MSP tenants have none. */
function assertCustomer(tenant: Tenant) {
  if (tenant.kind !== "CUSTOMER") {
    throw ValidationError.field("tenantId", "Desktop login is set per customer; an MSP tenant has no desktop settings");
  }
}

export async function updateDesktopSettings(ctx: Context, input: DesktopSettingsInput) {
  const data = parseInput(settingsInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  assertCustomer(tenant);
  const changes = {
    desktopLoginEnabled: data.desktopLoginEnabled ?? undefined,
    desktopLoginMethod: data.method ?? undefined,
    desktopPasswordFallback: data.passwordFallback ?? undefined,
    // Omitted leaves the text alone; null or blank removes it; anything else is kept as typed.
    brandingText: data.brandingText === undefined ? undefined : data.brandingText?.trim() ? data.brandingText : null,
  } satisfies Prisma.TenantUpdateInput;
  return auditedChange(ctx, async (tx) => ({
    result: await tx.tenant.update({ where: { id: tenant.id }, data: changes }),
    audit: {
      tenantId: tenant.id,
      action: "tenant.desktopSettingsUpdated",
      targetType: "Tenant",
      targetId: tenant.id,
      data: {
        desktopLoginEnabled: changes.desktopLoginEnabled ?? null,
        method: changes.desktopLoginMethod ?? null,
        passwordFallback: changes.desktopPasswordFallback ?? null,
        brandingTextChanged: changes.brandingText !== undefined,
        brandingText: changes.brandingText ?? null,
      },
    },
  }));
}

const HASH_FIELD = { BACKGROUND: "brandingBackgroundHash", LOGO: "brandingLogoHash" } as const;

/** The upload as yoga hands it over: a WHATWG File read from the multipart body. */
export type UploadedFile = { size: number; arrayBuffer(): Promise<ArrayBuffer> };

export async function uploadBrandingImage(ctx: Context, input: { tenantId: string; kind: BrandingImageKind; image: UploadedFile }) {
  // Who may change the tenant is settled before any image work is done.
  const tenant = await findAdministeredTenant(ctx, input.tenantId);
  assertCustomer(tenant);
  if (input.image.size > MAX_BRANDING_IMAGE_BYTES) {
    throw ValidationError.field("image", `Use an image of at most ${MAX_BRANDING_IMAGE_BYTES / 1024 / 1024} MiB`);
  }
  const image = await encodeBrandingImage(Buffer.from(await input.image.arrayBuffer()));
  const field = HASH_FIELD[input.kind];
  return auditedChange(ctx, async (tx) => {
    await storeBrandingImage(tx, tenant.id, input.kind, image);
    const updated = await tx.tenant.update({ where: { id: tenant.id }, data: { [field]: image.hash } });
    await forgetUnusedImages(tx, updated);
    return {
      result: updated,
      audit: {
        tenantId: tenant.id,
        action: "tenant.brandingImageUploaded",
        targetType: "Tenant",
        targetId: tenant.id,
        data: { kind: input.kind, hash: image.hash, contentType: image.contentType, width: image.width, height: image.height },
      },
    };
  });
}

export async function removeBrandingImage(ctx: Context, input: { tenantId: string; kind: BrandingImageKind }) {
  const tenant = await findAdministeredTenant(ctx, input.tenantId);
  assertCustomer(tenant);
  const field = HASH_FIELD[input.kind];
  if (!tenant[field]) return tenant;
  return auditedChange(ctx, async (tx) => {
    const updated = await tx.tenant.update({ where: { id: tenant.id }, data: { [field]: null } });
    await forgetUnusedImages(tx, updated);
    return {
      result: updated,
      audit: {
        tenantId: tenant.id,
        action: "tenant.brandingImageRemoved",
        targetType: "Tenant",
        targetId: tenant.id,
        data: { kind: input.kind, hash: tenant[field] },
      },
    };
  });
}

/**
 * Inserts the image unless the tenant already has these bytes (same pixels,
 * same bytes, same hash: the existing row is reused). `skipDuplicates` is
 * `ON CONFLICT DO NOTHING`, so a concurrent upload of the same image is no conflict.
 */
async function storeBrandingImage(tx: Prisma.TransactionClient, tenantId: string, kind: BrandingImageKind, image: EncodedBrandingImage) {
  await tx.brandingImage.createMany({
    data: [{ tenantId, kind, hash: image.hash, contentType: image.contentType, width: image.width, height: image.height, bytes: image.bytes }],
    skipDuplicates: true,
  });
}

/**
 * Deletes the tenant's images that neither slot names any more. `tenant` is
 * the row as this transaction's update returned it, taken under the row lock,
 * so a concurrent upload to the other slot is never mistaken for unused.
 */
async function forgetUnusedImages(tx: Prisma.TransactionClient, tenant: Tenant) {
  const inUse = [tenant.brandingBackgroundHash, tenant.brandingLogoHash].filter((hash): hash is string => !!hash);
  await tx.brandingImage.deleteMany({ where: { tenantId: tenant.id, hash: { notIn: inUse } } });
}
