-- AlterTable
ALTER TABLE "TenantKeyPair" ADD COLUMN     "epoch" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "signingPublicKey" TEXT,
ADD COLUMN     "statementSignature" TEXT,
ADD COLUMN     "wrappedSigningKey" TEXT;
