-- CreateEnum
CREATE TYPE "DeviceKeyAlgorithm" AS ENUM ('P256', 'ED25519');

-- CreateEnum
CREATE TYPE "ChallengeKind" AS ENUM ('PORTAL_LOGIN', 'DESKTOP_LOGIN', 'ELEVATED_ACCESS', 'DEVICE_ONBOARDING');

-- CreateEnum
CREATE TYPE "ChallengeStatus" AS ENUM ('PENDING', 'SCANNED', 'APPROVED', 'DENIED', 'EXPIRED', 'CONSUMED');

-- CreateTable
CREATE TABLE "Authenticator" (
    "id" UUID NOT NULL,
    "userId" UUID,
    "tenantId" UUID,
    "name" TEXT NOT NULL,
    "algorithm" "DeviceKeyAlgorithm" NOT NULL,
    "publicKey" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "verifiedEmail" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Authenticator_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EmailVerification" (
    "id" UUID NOT NULL,
    "emailKey" TEXT NOT NULL,
    "codeHash" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "usedAt" TIMESTAMPTZ(3),
    "ip" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EmailVerification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Challenge" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "kind" "ChallengeKind" NOT NULL,
    "status" "ChallengeStatus" NOT NULL DEFAULT 'PENDING',
    "secretHash" TEXT NOT NULL,
    "watchTokenHash" TEXT NOT NULL,
    "redeemSecretHash" TEXT NOT NULL,
    "targetUserId" UUID,
    "requesterKind" TEXT NOT NULL,
    "requesterName" TEXT NOT NULL,
    "requesterIp" TEXT,
    "requesterUserAgent" TEXT,
    "scannedById" UUID,
    "scannedAt" TIMESTAMPTZ(3),
    "scannerIp" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "approvedUserId" UUID,
    "consumedAt" TIMESTAMPTZ(3),
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Challenge_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Authenticator_tokenHash_key" ON "Authenticator"("tokenHash");

-- CreateIndex
CREATE INDEX "Authenticator_userId_idx" ON "Authenticator"("userId");

-- CreateIndex
CREATE INDEX "EmailVerification_emailKey_createdAt_idx" ON "EmailVerification"("emailKey", "createdAt");

-- CreateIndex
CREATE INDEX "EmailVerification_expiresAt_idx" ON "EmailVerification"("expiresAt");

-- CreateIndex
CREATE INDEX "Challenge_expiresAt_idx" ON "Challenge"("expiresAt");

-- AddForeignKey
ALTER TABLE "Authenticator" ADD CONSTRAINT "Authenticator_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Challenge" ADD CONSTRAINT "Challenge_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

