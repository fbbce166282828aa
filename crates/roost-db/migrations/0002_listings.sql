-- Listings and import reports. `tenants.change_seq` numbers every change of a tenant's
-- syncable data; `listings.seq` is the number of a listing's last change, and a deleted
-- listing stays as a tombstone (deleted_at set) so devices learn of the deletion.

ALTER TABLE tenants ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE listings (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    title TEXT,
    description TEXT,
    price_minor BIGINT,
    currency TEXT,
    bedrooms BIGINT,
    bathrooms DOUBLE PRECISION,
    size_value DOUBLE PRECISION,
    size_unit TEXT,
    size_sqft DOUBLE PRECISION,
    property_type TEXT,
    community TEXT,
    city TEXT,
    status TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    furnished BIGINT,
    photos TEXT NOT NULL,
    listed_at TEXT,
    attributes TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX listings_by_seq ON listings (tenant_id, seq);

CREATE TABLE imports (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
