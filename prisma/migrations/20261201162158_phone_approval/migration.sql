-- AlterTable
ALTER TABLE "Authenticator" ADD COLUMN     "approvedAt" TIMESTAMPTZ(3),
ADD COLUMN     "approvedById" UUID;

-- AlterTable
ALTER TABLE "Challenge" ADD COLUMN     "requestedById" UUID;

-- Phones linked before approvals existed keep working: approved as of their link, by nobody in particular.
UPDATE "Authenticator" SET "approvedAt" = "createdAt" WHERE "userId" IS NOT NULL;
