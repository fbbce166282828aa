-- Knowledge (market intelligence, agent resources, document chunks, employee profiles) and
-- clients. Both join the change feed through `seq`; removals stay as tombstones.
-- `source_key` is the stable identity an import upserts by.

CREATE TABLE knowledge (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    source_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- comma-separated roles; empty: everyone
    audience TEXT NOT NULL,
    data TEXT NOT NULL,
    source TEXT,
    content_hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    import_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, source_key)
);
CREATE INDEX knowledge_by_seq ON knowledge (tenant_id, seq);

CREATE TABLE knowledge_embeddings (
    tenant_id TEXT NOT NULL,
    knowledge_id TEXT NOT NULL,
    model TEXT NOT NULL,
    dim BIGINT NOT NULL,
    vector BYTEA NOT NULL,
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, knowledge_id),
    FOREIGN KEY (tenant_id, knowledge_id) REFERENCES knowledge (tenant_id, id)
);

CREATE TABLE clients (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    agent_user_id TEXT,
    agent_email TEXT,
    data TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    import_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX clients_by_seq ON clients (tenant_id, seq);
