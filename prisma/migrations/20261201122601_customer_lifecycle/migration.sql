-- CreateEnum
CREATE TYPE "TenantStatus" AS ENUM ('ACTIVE', 'SUSPENDED');

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "status" "TenantStatus" NOT NULL DEFAULT 'ACTIVE',
ADD COLUMN     "suspendedAt" TIMESTAMPTZ(3);

-- The purge function learns two things for deleting a customer: a NULL "before"
-- takes every event, and the checkpoint may be written to another tenant (the
-- MSP's own log, which outlives the customer). Same trigger, same one way out.
DROP FUNCTION "audit_event_purge"(uuid, timestamptz, text);

CREATE FUNCTION "audit_event_purge"(p_tenant uuid, p_before timestamptz, p_reason text, p_checkpoint_tenant uuid DEFAULT NULL) RETURNS integer AS $$
DECLARE
  purged integer;
BEGIN
  PERFORM set_config('latchkey.audit_purge', 'on', true);
  DELETE FROM "AuditEvent" WHERE "tenantId" = p_tenant AND (p_before IS NULL OR "createdAt" < p_before);
  GET DIAGNOSTICS purged = ROW_COUNT;
  PERFORM set_config('latchkey.audit_purge', 'off', true);
  IF purged > 0 THEN
    INSERT INTO "AuditEvent" ("id", "tenantId", "action", "targetType", "targetId", "data", "createdAt")
    VALUES (gen_random_uuid(), COALESCE(p_checkpoint_tenant, p_tenant), 'audit.purged', 'Tenant', p_tenant::text,
            jsonb_build_object('count', purged, 'before', p_before, 'reason', p_reason), now());
  END IF;
  RETURN purged;
END;
$$ LANGUAGE plpgsql;
