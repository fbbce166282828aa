-- One embedding per listing, of the server's current model. `content_hash` is the listing
-- content it was made from: a listing whose hash differs needs a new one.
-- BYTEA is PostgreSQL's binary type; SQLite stores the bytes as they are under any type name.

ALTER TABLE listings ADD COLUMN import_id TEXT;

CREATE TABLE listing_embeddings (
    tenant_id TEXT NOT NULL,
    listing_id TEXT NOT NULL,
    model TEXT NOT NULL,
    dim BIGINT NOT NULL,
    vector BYTEA NOT NULL,
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, listing_id),
    FOREIGN KEY (tenant_id, listing_id) REFERENCES listings (tenant_id, id)
);
