import { GraphQLError } from "graphql";
import { builder } from "../../builder.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import { Tenant } from "../tenant/tenant.types.ts";
import {
  removeBrandingImage,
  updateDesktopSettings,
  uploadBrandingImage,
  type UploadedFile,
} from "./desktop-settings.service.ts";
import { BrandingImageKind, DesktopLoginMethod } from "./desktop-settings.types.ts";

function isUploadedFile(value: unknown): value is UploadedFile {
  const file = value as Partial<UploadedFile> | null;
  return typeof file === "object" && file !== null && typeof file.size === "number" && typeof file.arrayBuffer === "function";
}

// Yoga hands the resolver a WHATWG File for each multipart part.
const FileScalar = builder.scalarType("File", {
  description: "A file sent in a GraphQL multipart request (yoga's upload spec). Input only.",
  parseValue: (value) => {
    if (!isUploadedFile(value)) throw new GraphQLError("Send the file as a part of a multipart request");
    return value as File;
  },
  parseLiteral: () => {
    throw new GraphQLError("A file cannot be written inline; send it as a part of a multipart request");
  },
  serialize: () => {
    throw new GraphQLError("Files are input only");
  },
});

const CUSTOMER_TENANT =
  "The customer tenant, one the viewer administers (its admins, its MSP's admins, delegated technicians); NOT_FOUND for any other, VALIDATION for an MSP tenant.";

const UpdateDesktopSettingsInput = builder.inputType("UpdateDesktopSettingsInput", {
  description: "Only the fields given change.",
  fields: (t) => ({
    tenantId: t.id({ required: true, description: CUSTOMER_TENANT }),
    desktopLoginEnabled: t.boolean({ description: "Whether the desktop agent signs users in on the customer's workstations." }),
    method: t.field({ type: DesktopLoginMethod, description: "How users sign in on them." }),
    passwordFallback: t.boolean({ description: "With PASSWORDLESS: may users still type their directory password?" }),
    brandingText: t.string({
      description: "Plain text for the login screen, stored and shown exactly as typed (at most 500 characters). Null or blank removes it.",
    }),
  }),
});

const UploadBrandingImageInput = builder.inputType("UploadBrandingImageInput", {
  fields: (t) => ({
    tenantId: t.id({ required: true, description: CUSTOMER_TENANT }),
    kind: t.field({ type: BrandingImageKind, required: true, description: "Which image to set; it replaces the one before." }),
    image: t.field({
      type: FileScalar,
      required: true,
      description: "A PNG or JPEG of at most 5 MiB and 4096 × 4096 pixels. Its bytes decide the format, not its name.",
    }),
  }),
});

const RemoveBrandingImageInput = builder.inputType("RemoveBrandingImageInput", {
  fields: (t) => ({
    tenantId: t.id({ required: true, description: CUSTOMER_TENANT }),
    kind: t.field({ type: BrandingImageKind, required: true, description: "Which image to remove; removing one that is not set changes nothing." }),
  }),
});

const payload = (name: string) =>
  builder.simpleObject(name, {
    fields: (t) => ({ tenant: t.field({ type: Tenant, description: "The customer tenant, its `desktopSettings` as they are now." }) }),
  });

const UpdateDesktopSettingsPayload = payload("UpdateDesktopSettingsPayload");
const UploadBrandingImagePayload = payload("UploadBrandingImagePayload");
const RemoveBrandingImagePayload = payload("RemoveBrandingImagePayload");

builder.mutationFields((t) => ({
  updateDesktopSettings: t.field({
    type: UpdateDesktopSettingsPayload,
    description: "Changes a customer's desktop login settings and login-screen text. For those who administer the customer: its admins, its MSP's admins and technicians delegated to it.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "UpdateDesktopSettingsResult" } },
    args: { input: t.arg({ type: UpdateDesktopSettingsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      tenant: await updateDesktopSettings(ctx, { ...input, tenantId: String(input.tenantId) }),
    }),
  }),
  uploadBrandingImage: t.field({
    type: UploadBrandingImagePayload,
    description: "Sets a customer's login-screen background or logo (multipart request). For those who administer the customer: its admins, its MSP's admins and technicians delegated to it.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "UploadBrandingImageResult" } },
    args: { input: t.arg({ type: UploadBrandingImageInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      tenant: await uploadBrandingImage(ctx, { ...input, tenantId: String(input.tenantId) }),
    }),
  }),
  removeBrandingImage: t.field({
    type: RemoveBrandingImagePayload,
    description: "Removes a customer's login-screen background or logo. For those who administer the customer: its admins, its MSP's admins and technicians delegated to it.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "RemoveBrandingImageResult" } },
    args: { input: t.arg({ type: RemoveBrandingImageInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      tenant: await removeBrandingImage(ctx, { ...input, tenantId: String(input.tenantId) }),
    }),
  }),
}));
