-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "auditRetentionDays" INTEGER NOT NULL DEFAULT 365;

-- The audit log stays append-only, with one way out: a purge through this
-- function, which raises a flag for its own DELETE only, lowers it again, and
-- records what it removed (how many, everything before when, and why) as a new
-- event. The trigger admits a DELETE while the flag is up, and nothing else.
CREATE OR REPLACE FUNCTION "audit_event_append_only"() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('latchkey.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'AuditEvent is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION "audit_event_purge"(p_tenant uuid, p_before timestamptz, p_reason text) RETURNS integer AS $$
DECLARE
  purged integer;
BEGIN
  PERFORM set_config('latchkey.audit_purge', 'on', true);
  DELETE FROM "AuditEvent" WHERE "tenantId" = p_tenant AND "createdAt" < p_before;
  GET DIAGNOSTICS purged = ROW_COUNT;
  PERFORM set_config('latchkey.audit_purge', 'off', true);
  IF purged > 0 THEN
    INSERT INTO "AuditEvent" ("id", "tenantId", "action", "data", "createdAt")
    VALUES (gen_random_uuid(), p_tenant, 'audit.purged',
            jsonb_build_object('count', purged, 'before', p_before, 'reason', p_reason), now());
  END IF;
  RETURN purged;
END;
$$ LANGUAGE plpgsql;
