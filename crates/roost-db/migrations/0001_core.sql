-- Tenants, accounts, devices, refresh tokens, tenant config and the audit log.
-- Written in the subset of SQL that SQLite and PostgreSQL read the same way: TEXT ids (UUIDs),
-- BIGINT unix-millisecond timestamps, BIGINT 0/1 flags, JSON as TEXT.
-- Every tenant-owned table is keyed (tenant_id, ...) so it can later be sharded by tenant.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    company_name TEXT NOT NULL,
    industry TEXT NOT NULL,
    region TEXT NOT NULL,
    employee_count BIGINT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT,
    tier TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- last audit sequence number handed out; bumped inside each writing transaction
    audit_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE users (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- sorted, comma-separated role names
    roles TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE devices (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX devices_by_user ON devices (tenant_id, user_id);

-- Only a SHA-256 of each refresh token is stored.
CREATE TABLE refresh_tokens (
    tenant_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);

CREATE TABLE tenant_configs (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT
);

CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_user_id TEXT,
    actor_device_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    details TEXT NOT NULL,
    ip TEXT,
    PRIMARY KEY (tenant_id, seq)
);
