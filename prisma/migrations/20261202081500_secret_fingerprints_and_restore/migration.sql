-- CreateTable
CREATE TABLE "TenantKeyRotationDue" (
    "tenantId" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantKeyRotationDue_pkey" PRIMARY KEY ("tenantId","epoch")
);

-- CreateTable
CREATE TABLE "SecretFingerprint" (
    "jobQueueSchema" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "keyId" TEXT,
    "fingerprint" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "replacedAt" TIMESTAMPTZ(3),

    CONSTRAINT "SecretFingerprint_pkey" PRIMARY KEY ("jobQueueSchema","secret")
);
