// Customer tenants' desktop login settings and login-screen branding. `Branding`
// is shared: the portal reads it under Tenant.desktopSettings, and the desktop
// agent under its DesktopConfig, which is why it carries no viewer checks of its
// own (images and text are public login-screen content; the hash is the URL).
import type { Tenant as TenantRow } from "@latchkey/db";
import { builder } from "../../builder.ts";
import type { Context } from "../../context.ts";
import { brandingImagePath } from "./branding-image.ts";

export const DesktopLoginMethod = builder.enumType("DesktopLoginMethod", {
  description: "How users sign in on a customer's workstations.",
  values: {
    PASSWORD: { description: "Users type their directory username and password on the login screen." },
    PASSWORDLESS: { description: "Users scan the login screen's QR code with the mobile authenticator." },
  } as const,
});

export const BrandingImageKind = builder.enumType("BrandingImageKind", {
  description: "Which of the login screen's two images.",
  values: {
    BACKGROUND: { description: "Fills the login screen behind the sign-in form." },
    LOGO: { description: "Shown above the sign-in form." },
  } as const,
});

type BrandingImageShape = { hash: string; contentType: string; width: number; height: number };

export const BrandingImage = builder.objectRef<BrandingImageShape>("BrandingImage").implement({
  description: "A login-screen image, re-encoded on upload and served by its content hash, so clients fetch it only when it changes.",
  fields: (t) => ({
    url: t.string({
      description: "Path on the API's origin (`/branding/<sha256>.png` or `.jpg`); the same content always has the same URL.",
      resolve: (image) => brandingImagePath(image),
    }),
    hash: t.exposeString("hash", { description: "Lower-case hex SHA-256 of the served bytes." }),
    contentType: t.exposeString("contentType", { description: "`image/png` or `image/jpeg`." }),
    width: t.exposeInt("width", { description: "Width in pixels, as served (EXIF orientation already applied)." }),
    height: t.exposeInt("height", { description: "Height in pixels, as served (EXIF orientation already applied)." }),
  }),
});

export type BrandingShape = { tenantId: string; text: string | null; backgroundHash: string | null; logoHash: string | null };

/** The parent value of `Branding` for a tenant row (for DesktopConfig as much as for DesktopSettings). */
export function brandingOf(
  tenant: Pick<TenantRow, "id" | "brandingText" | "brandingBackgroundHash" | "brandingLogoHash">,
): BrandingShape {
  return {
    tenantId: tenant.id,
    text: tenant.brandingText,
    backgroundHash: tenant.brandingBackgroundHash,
    logoHash: tenant.brandingLogoHash,
  };
}

export const Branding = builder.objectRef<BrandingShape>("Branding").implement({
  description: "What a customer's workstations show on their login screen.",
  fields: (t) => ({
    text: t.exposeString("text", {
      nullable: true,
      description: "Plain text exactly as the admin typed it (line breaks included). Show it as text, never as markup.",
    }),
    background: t.field({
      type: BrandingImage,
      nullable: true,
      description: "The login screen's background image; null when none is set.",
      resolve: (branding, _args, ctx) => brandingImage(ctx.db, branding.tenantId, branding.backgroundHash),
    }),
    logo: t.field({
      type: BrandingImage,
      nullable: true,
      description: "The logo above the sign-in form; null when none is set.",
      resolve: (branding, _args, ctx) => brandingImage(ctx.db, branding.tenantId, branding.logoHash),
    }),
  }),
});

/** Everything but the bytes. Prisma batches these findUnique calls made in the same tick into one query. */
function brandingImage(db: Context["db"], tenantId: string, hash: string | null): Promise<BrandingImageShape | null> | null {
  if (!hash) return null;
  return db.brandingImage.findUnique({
    where: { hash_tenantId: { hash, tenantId } },
    select: { hash: true, contentType: true, width: true, height: true },
  });
}

export const DesktopSettings = builder.objectRef<TenantRow>("DesktopSettings").implement({
  description: "How a customer's workstations sign users in, and what their login screen shows.",
  authScopes: (tenant) => ({ tenantVisible: tenant.id }),
  fields: (t) => ({
    desktopLoginEnabled: t.exposeBoolean("desktopLoginEnabled", {
      description: "Whether the desktop agent signs users in on this customer's workstations.",
    }),
    method: t.field({
      type: DesktopLoginMethod,
      description: "How users sign in: with their directory password, or passwordless with the login screen's QR code.",
      resolve: (tenant) => tenant.desktopLoginMethod,
    }),
    passwordFallback: t.exposeBoolean("desktopPasswordFallback", {
      description: "With PASSWORDLESS: whether users may still type their directory password.",
    }),
    branding: t.field({ type: Branding, description: "What the login screen shows.", resolve: (tenant) => brandingOf(tenant) }),
    viewerCanEdit: t.boolean({
      description: "Whether the viewer may change these settings and the branding.",
      resolve: (tenant, _args, ctx) => ctx.access.canAdministerTenant(tenant.id),
    }),
  }),
});

builder.prismaObjectField("Tenant", "desktopSettings", (t) =>
  t.field({
    type: DesktopSettings,
    nullable: true,
    select: {
      desktopLoginEnabled: true,
      desktopLoginMethod: true,
      desktopPasswordFallback: true,
      brandingText: true,
      brandingBackgroundHash: true,
      brandingLogoHash: true,
    },
    description: "Desktop login settings and branding of a customer tenant; null for an MSP tenant.",
    resolve: (tenant) => (tenant.kind === "CUSTOMER" ? (tenant as TenantRow) : null),
  }),
);
