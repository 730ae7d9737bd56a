-- AlterTable
ALTER TABLE "User" DROP COLUMN "failedLogins",
ADD COLUMN     "lockedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "LoginEvent" ADD COLUMN     "loginPseudonym" TEXT,
ALTER COLUMN "username" DROP NOT NULL;

