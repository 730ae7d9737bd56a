-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "portal" BOOLEAN NOT NULL DEFAULT false;
