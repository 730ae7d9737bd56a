-- AlterTable
ALTER TABLE "Authenticator" ADD COLUMN     "keyAgreementPublicKey" TEXT,
ADD COLUMN     "keyAgreementRegisteredAt" TIMESTAMPTZ(3),
ADD COLUMN     "keyAgreementSignature" TEXT;
