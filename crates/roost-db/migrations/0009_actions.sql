-- Actions agents take from the app (WhatsApp showcases, CRM leads), performed once per
-- idempotency key. A row is claimed ('sending') in the transaction that creates it, then
-- ends 'delivered' or 'failed', or goes back to 'retry' after a temporary failure so the
-- device's retry with the same key performs it. The request is kept as JSON with a hash so
-- a key reused for another request is refused.

CREATE TABLE actions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- 'sending' | 'retry' | 'delivered' | 'failed'
    status TEXT NOT NULL,
    -- when the current attempt claimed the row; a stale claim may be taken over
    claimed_at BIGINT,
    attempts BIGINT NOT NULL,
    reason TEXT,
    retry_after_s BIGINT,
    external_id TEXT,
    client_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id, idempotency_key)
);
CREATE INDEX actions_by_user ON actions (tenant_id, user_id, created_at);

-- The client's last inbound WhatsApp message (opens the 24-hour window); written by the
-- webhook (a later step), unknown until then.
ALTER TABLE clients ADD COLUMN whatsapp_inbound_at BIGINT;
