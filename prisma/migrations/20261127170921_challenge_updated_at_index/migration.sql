-- CreateIndex
CREATE INDEX "Challenge_updatedAt_idx" ON "Challenge"("updatedAt");

