-- AlterEnum
ALTER TYPE "KeyOperationPurpose" ADD VALUE 'REVEAL_BREAK_GLASS_PASSWORD';

-- AlterTable
ALTER TABLE "Challenge" ADD COLUMN     "browserKey" TEXT;
