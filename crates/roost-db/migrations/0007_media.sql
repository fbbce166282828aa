-- Images a company uploads (listing photos), served at /api/v1/media/<id>. Immutable: an id
-- always names the same bytes, so devices cache them for good. The bytes live in the
-- database, not in the data dir, so every API replica serves them (object storage is the
-- scale path); one tenant's identical uploads share a row (sha256).
-- BYTEA is PostgreSQL's binary type; SQLite stores the bytes as they are under any type name.

CREATE TABLE media (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, sha256)
);
