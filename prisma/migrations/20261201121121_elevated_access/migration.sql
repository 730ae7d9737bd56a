-- CreateEnum
CREATE TYPE "ElevationPasswordCharacters" AS ENUM ('ALPHANUMERIC', 'ALPHANUMERIC_SYMBOLS');

-- CreateEnum
CREATE TYPE "ElevationAccountKind" AS ENUM ('SHARED', 'WORKSTATION', 'TECHNICIAN');

-- CreateEnum
CREATE TYPE "ElevationMode" AS ENUM ('SIGN_IN', 'IN_SESSION');

-- CreateEnum
CREATE TYPE "TechnicianSessionStatus" AS ENUM ('REQUESTED', 'APPROVED', 'STARTED', 'ENDED');

-- CreateEnum
CREATE TYPE "TechnicianSessionEndReason" AS ENUM ('EXPIRED', 'ENDED_BY_TECHNICIAN', 'ENDED_BY_ADMIN', 'REVOKED', 'ENDED_ON_WORKSTATION', 'NOT_APPROVED');

-- CreateEnum
CREATE TYPE "WorkstationCommandKind" AS ENUM ('END_TECHNICIAN_SESSION');

-- CreateTable
CREATE TABLE "ElevationSettings" (
    "tenantId" UUID NOT NULL,
    "technicianAccountPrefix" TEXT,
    "manageBuiltInAdministrator" BOOLEAN NOT NULL DEFAULT false,
    "maxSessionMinutes" INTEGER NOT NULL DEFAULT 10,
    "passwordLength" INTEGER NOT NULL DEFAULT 24,
    "passwordCharacters" "ElevationPasswordCharacters" NOT NULL DEFAULT 'ALPHANUMERIC_SYMBOLS',
    "restartGraceMinutes" INTEGER,
    "minimumAgentVersion" TEXT,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ElevationSettings_pkey" PRIMARY KEY ("tenantId")
);

-- CreateTable
CREATE TABLE "ElevationAccount" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "kind" "ElevationAccountKind" NOT NULL,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "technicianId" UUID,
    "number" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ElevationAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ElevationAccountSkeleton" (
    "tenantId" UUID NOT NULL,
    "skeleton" TEXT NOT NULL,
    "accountId" UUID NOT NULL,

    CONSTRAINT "ElevationAccountSkeleton_pkey" PRIMARY KEY ("tenantId","skeleton")
);

-- CreateTable
CREATE TABLE "WorkstationAccount" (
    "workstationId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WorkstationAccount_pkey" PRIMARY KEY ("workstationId")
);

-- CreateTable
CREATE TABLE "TechnicianSession" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "challengeId" UUID NOT NULL,
    "workstationId" UUID NOT NULL,
    "workstationName" TEXT NOT NULL,
    "mode" "ElevationMode" NOT NULL,
    "accountName" TEXT,
    "accountKey" TEXT,
    "namedAccount" BOOLEAN NOT NULL DEFAULT false,
    "requestedMinutes" INTEGER NOT NULL,
    "sessionUser" TEXT,
    "sessionRemote" BOOLEAN,
    "agentVersion" TEXT,
    "status" "TechnicianSessionStatus" NOT NULL DEFAULT 'REQUESTED',
    "technicianId" UUID,
    "technicianLabel" TEXT,
    "authenticatorId" UUID,
    "signature" TEXT,
    "devicePublicKey" TEXT,
    "deviceAlgorithm" "DeviceKeyAlgorithm",
    "approvedAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "endsAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "endReason" "TechnicianSessionEndReason",
    "endedById" UUID,
    "endedByLabel" TEXT,
    "endNote" TEXT,
    "terminatedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "TechnicianSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkstationCommand" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "workstationId" UUID NOT NULL,
    "kind" "WorkstationCommandKind" NOT NULL,
    "sessionId" UUID,
    "reason" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledgedAt" TIMESTAMPTZ(3),

    CONSTRAINT "WorkstationCommand_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ElevationAccount_tenantId_nameKey_key" ON "ElevationAccount"("tenantId", "nameKey");

-- CreateIndex
CREATE UNIQUE INDEX "ElevationAccount_tenantId_technicianId_key" ON "ElevationAccount"("tenantId", "technicianId");

-- CreateIndex
CREATE UNIQUE INDEX "ElevationAccount_tenantId_number_key" ON "ElevationAccount"("tenantId", "number");

-- CreateIndex
CREATE INDEX "ElevationAccountSkeleton_accountId_idx" ON "ElevationAccountSkeleton"("accountId");

-- CreateIndex
CREATE INDEX "WorkstationAccount_accountId_idx" ON "WorkstationAccount"("accountId");

-- CreateIndex
CREATE INDEX "WorkstationAccount_tenantId_idx" ON "WorkstationAccount"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "TechnicianSession_challengeId_key" ON "TechnicianSession"("challengeId");

-- CreateIndex
CREATE INDEX "TechnicianSession_tenantId_createdAt_id_idx" ON "TechnicianSession"("tenantId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "TechnicianSession_workstationId_status_idx" ON "TechnicianSession"("workstationId", "status");

-- CreateIndex
CREATE INDEX "TechnicianSession_technicianId_status_idx" ON "TechnicianSession"("technicianId", "status");

-- CreateIndex
CREATE INDEX "TechnicianSession_status_endsAt_idx" ON "TechnicianSession"("status", "endsAt");

-- CreateIndex
CREATE INDEX "WorkstationCommand_workstationId_acknowledgedAt_createdAt_idx" ON "WorkstationCommand"("workstationId", "acknowledgedAt", "createdAt");

-- AddForeignKey
ALTER TABLE "ElevationSettings" ADD CONSTRAINT "ElevationSettings_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ElevationAccount" ADD CONSTRAINT "ElevationAccount_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ElevationAccountSkeleton" ADD CONSTRAINT "ElevationAccountSkeleton_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "ElevationAccount"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkstationAccount" ADD CONSTRAINT "WorkstationAccount_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "ElevationAccount"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkstationAccount" ADD CONSTRAINT "WorkstationAccount_workstationId_fkey" FOREIGN KEY ("workstationId") REFERENCES "Workstation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
