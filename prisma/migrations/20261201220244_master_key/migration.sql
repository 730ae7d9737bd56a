-- CreateEnum
CREATE TYPE "TenantKeyCustody" AS ENUM ('ESCROW', 'MASTER_KEY');

-- CreateEnum
CREATE TYPE "TenantKeyHolderKind" AS ENUM ('PHONE', 'RECOVERY_KIT');

-- CreateEnum
CREATE TYPE "KeyOperationPurpose" AS ENUM ('ENABLE_MASTER_KEY', 'ROTATE_TENANT_KEY', 'CREATE_RECOVERY_KIT', 'RECOVER_TENANT_KEY');

-- AlterEnum
ALTER TYPE "ChallengeKind" ADD VALUE 'KEY_OPERATION';

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "mspMayHoldMasterKey" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "sealedPasswordEpoch" INTEGER;

-- AlterTable
ALTER TABLE "TenantKeyPair" ADD COLUMN     "custody" "TenantKeyCustody" NOT NULL DEFAULT 'ESCROW',
ADD COLUMN     "handoverSignature" TEXT,
ADD COLUMN     "statement" TEXT,
ALTER COLUMN "keyId" DROP NOT NULL,
ALTER COLUMN "wrappedPrivateKey" DROP NOT NULL;

-- AlterTable
ALTER TABLE "PasswordRegistration" ADD COLUMN     "sealedEpoch" INTEGER;

-- AlterTable
ALTER TABLE "Challenge" ADD COLUMN     "browserKeyHash" TEXT,
ADD COLUMN     "keyOperationPurpose" "KeyOperationPurpose";

-- AlterTable
ALTER TABLE "LoginEvent" ADD COLUMN     "passwordSynced" BOOLEAN;

-- AlterTable
ALTER TABLE "BreakGlassPassword" ADD COLUMN     "epoch" INTEGER;

-- CreateTable
CREATE TABLE "TenantKeyEpoch" (
    "tenantId" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "statement" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "handoverSignature" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantKeyEpoch_pkey" PRIMARY KEY ("tenantId","epoch")
);

-- CreateTable
CREATE TABLE "TenantKeyHolder" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "kind" "TenantKeyHolderKind" NOT NULL,
    "holderId" UUID NOT NULL,
    "authenticatorId" UUID,
    "keyAgreementPublicKey" TEXT NOT NULL,
    "wrappedKey" JSONB NOT NULL,
    "admittedByAuthenticatorId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastActedAt" TIMESTAMPTZ(3),

    CONSTRAINT "TenantKeyHolder_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TenantKeyHolder_authenticatorId_idx" ON "TenantKeyHolder"("authenticatorId");

-- CreateIndex
CREATE UNIQUE INDEX "TenantKeyHolder_tenantId_epoch_holderId_key" ON "TenantKeyHolder"("tenantId", "epoch", "holderId");

-- AddForeignKey
ALTER TABLE "TenantKeyEpoch" ADD CONSTRAINT "TenantKeyEpoch_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantKeyHolder" ADD CONSTRAINT "TenantKeyHolder_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
