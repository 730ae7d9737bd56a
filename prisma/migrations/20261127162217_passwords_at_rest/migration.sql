-- AlterTable
ALTER TABLE "User" ADD COLUMN     "passwordCiphertext" TEXT;

-- CreateTable
CREATE TABLE "TenantDataKey" (
    "tenantId" UUID NOT NULL,
    "keyId" TEXT NOT NULL,
    "wrappedKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMPTZ(3),

    CONSTRAINT "TenantDataKey_pkey" PRIMARY KEY ("tenantId")
);

-- CreateIndex
CREATE INDEX "TenantDataKey_keyId_idx" ON "TenantDataKey"("keyId");

-- AddForeignKey
ALTER TABLE "TenantDataKey" ADD CONSTRAINT "TenantDataKey_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

