-- CreateEnum
CREATE TYPE "PasswordLoginPurpose" AS ENUM ('PORTAL', 'DESKTOP', 'PASSWORD_CHANGE');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "opaqueRecord" TEXT,
ADD COLUMN     "passwordKsf" TEXT,
ADD COLUMN     "sealedPassword" JSONB;

-- CreateTable
CREATE TABLE "TenantKeyPair" (
    "tenantId" UUID NOT NULL,
    "publicKey" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "wrappedPrivateKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMPTZ(3),

    CONSTRAINT "TenantKeyPair_pkey" PRIMARY KEY ("tenantId")
);

-- CreateTable
CREATE TABLE "Deployment" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "deploymentId" UUID NOT NULL,
    "opaqueServerPublicKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PasswordLogin" (
    "id" UUID NOT NULL,
    "purpose" "PasswordLoginPurpose" NOT NULL,
    "tenant" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PasswordLogin_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PasswordRegistration" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "tenantId" UUID,
    "startedById" UUID,
    "ksf" TEXT NOT NULL,
    "passwordVersion" INTEGER NOT NULL,
    "record" TEXT,
    "sealedPassword" JSONB,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PasswordRegistration_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TenantKeyPair_keyId_idx" ON "TenantKeyPair"("keyId");

-- CreateIndex
CREATE INDEX "PasswordLogin_expiresAt_idx" ON "PasswordLogin"("expiresAt");

-- CreateIndex
CREATE INDEX "PasswordRegistration_expiresAt_idx" ON "PasswordRegistration"("expiresAt");

-- AddForeignKey
ALTER TABLE "TenantKeyPair" ADD CONSTRAINT "TenantKeyPair_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
