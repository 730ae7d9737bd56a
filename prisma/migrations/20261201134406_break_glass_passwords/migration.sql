-- AlterEnum
ALTER TYPE "ChallengeKind" ADD VALUE 'BREAK_GLASS_REVEAL';

-- AlterEnum
ALTER TYPE "WorkstationCommandKind" ADD VALUE 'ROTATE_ACCOUNT_PASSWORD';

-- AlterTable
ALTER TABLE "Challenge" ADD COLUMN     "accountName" TEXT;

-- AlterTable
ALTER TABLE "WorkstationCommand" ADD COLUMN     "accountName" TEXT;

-- CreateTable
CREATE TABLE "BreakGlassPassword" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "workstationId" UUID NOT NULL,
    "accountName" TEXT NOT NULL,
    "accountKey" TEXT NOT NULL,
    "rotation" INTEGER NOT NULL,
    "suite" TEXT NOT NULL,
    "enc" TEXT NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BreakGlassPassword_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BreakGlassPassword_tenantId_idx" ON "BreakGlassPassword"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "BreakGlassPassword_workstationId_accountKey_key" ON "BreakGlassPassword"("workstationId", "accountKey");

-- AddForeignKey
ALTER TABLE "BreakGlassPassword" ADD CONSTRAINT "BreakGlassPassword_workstationId_fkey" FOREIGN KEY ("workstationId") REFERENCES "Workstation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
