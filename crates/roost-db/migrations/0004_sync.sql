-- The tenant config joins the change feed; `purged_before` is the oldest cursor the feed can
-- still serve (tombstones older than it may have been removed).

ALTER TABLE tenant_configs ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN purged_before BIGINT NOT NULL DEFAULT 0;
