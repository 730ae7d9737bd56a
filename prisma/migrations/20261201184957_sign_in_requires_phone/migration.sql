-- AlterEnum
ALTER TYPE "SessionMethod" ADD VALUE 'PASSWORD_AND_PHONE';

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "signInRequiresPhone" BOOLEAN NOT NULL DEFAULT false;


-- Every MSP asks for the phone after a password from now on, as new ones do from sign-up.
UPDATE "Tenant" SET "signInRequiresPhone" = true WHERE "kind" = 'MSP';
