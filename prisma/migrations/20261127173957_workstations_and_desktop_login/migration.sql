-- CreateEnum
CREATE TYPE "DesktopLoginMethod" AS ENUM ('PASSWORD', 'PASSWORDLESS');

-- CreateEnum
CREATE TYPE "BrandingImageKind" AS ENUM ('BACKGROUND', 'LOGO');

-- CreateEnum
CREATE TYPE "WorkstationStatus" AS ENUM ('PENDING', 'APPROVED');

-- CreateEnum
CREATE TYPE "KeyAgreementAlgorithm" AS ENUM ('X25519', 'P256');

-- CreateEnum
CREATE TYPE "LoginMethod" AS ENUM ('PASSWORD', 'QR');

-- CreateEnum
CREATE TYPE "LoginOutcome" AS ENUM ('SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "AccountOutcome" AS ENUM ('CREATED', 'TAKEN_OVER', 'REFUSED', 'PASSWORD_REJECTED');

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "brandingBackgroundHash" TEXT,
ADD COLUMN     "brandingLogoHash" TEXT,
ADD COLUMN     "brandingText" TEXT,
ADD COLUMN     "desktopLoginEnabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "desktopLoginMethod" "DesktopLoginMethod" NOT NULL DEFAULT 'PASSWORD',
ADD COLUMN     "desktopPasswordFallback" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "failedLogins" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lockedUntil" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "Challenge" ADD COLUMN     "workstationId" UUID;

-- CreateTable
CREATE TABLE "BrandingImage" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "kind" "BrandingImageKind" NOT NULL,
    "hash" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "bytes" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrandingImage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InstallToken" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "autoApprove" BOOLEAN NOT NULL DEFAULT false,
    "maxUses" INTEGER NOT NULL,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "revokedAt" TIMESTAMPTZ(3),
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "InstallToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Workstation" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "os" TEXT NOT NULL,
    "status" "WorkstationStatus" NOT NULL DEFAULT 'PENDING',
    "signingAlgorithm" "DeviceKeyAlgorithm" NOT NULL,
    "signingPublicKey" TEXT NOT NULL,
    "keyAgreementAlgorithm" "KeyAgreementAlgorithm",
    "keyAgreementPublicKey" TEXT,
    "installTokenId" UUID,
    "approvedAt" TIMESTAMPTZ(3),
    "approvedById" UUID,
    "lastSeenAt" TIMESTAMPTZ(3),
    "lastSeenIp" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Workstation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LoginEvent" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "userId" UUID,
    "username" TEXT NOT NULL,
    "workstationId" UUID,
    "workstationName" TEXT,
    "method" "LoginMethod" NOT NULL,
    "outcome" "LoginOutcome" NOT NULL,
    "reason" TEXT,
    "accountOutcome" "AccountOutcome",
    "accountDetail" TEXT,
    "ip" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LoginEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BrandingImage_tenantId_idx" ON "BrandingImage"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "BrandingImage_hash_tenantId_key" ON "BrandingImage"("hash", "tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "InstallToken_tokenHash_key" ON "InstallToken"("tokenHash");

-- CreateIndex
CREATE INDEX "InstallToken_tenantId_createdAt_idx" ON "InstallToken"("tenantId", "createdAt");

-- CreateIndex
CREATE INDEX "Workstation_tenantId_createdAt_idx" ON "Workstation"("tenantId", "createdAt");

-- CreateIndex
CREATE INDEX "LoginEvent_tenantId_createdAt_id_idx" ON "LoginEvent"("tenantId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "LoginEvent_workstationId_createdAt_idx" ON "LoginEvent"("workstationId", "createdAt");

-- AddForeignKey
ALTER TABLE "BrandingImage" ADD CONSTRAINT "BrandingImage_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstallToken" ADD CONSTRAINT "InstallToken_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Workstation" ADD CONSTRAINT "Workstation_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

