-- AlterTable
ALTER TABLE "User" ADD COLUMN     "phonePasswordCopies" JSONB;

-- AlterTable
ALTER TABLE "PasswordRegistration" ADD COLUMN     "phoneCopies" JSONB;

-- AlterTable
ALTER TABLE "Challenge" ADD COLUMN     "deliveredPassword" JSONB,
ADD COLUMN     "deliveredPasswordVersion" INTEGER,
ADD COLUMN     "deliveryExpiresAt" TIMESTAMPTZ(3);
