-- CreateTable
CREATE TABLE "AuditChainLink" (
    "eventId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "chainedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditChainLink_pkey" PRIMARY KEY ("eventId")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditChainLink_tenantId_seq_key" ON "AuditChainLink"("tenantId", "seq");

-- AddForeignKey
ALTER TABLE "AuditChainLink" ADD CONSTRAINT "AuditChainLink_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "AuditEvent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
