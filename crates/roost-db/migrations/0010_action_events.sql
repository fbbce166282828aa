-- What happens to actions after the server performed them, and how devices learn of it.
--
-- Actions join the change feed: `seq` moves on each change of state (claim, outcome,
-- WhatsApp status), and each user's device receives its own actions' records. `delivery`
-- is the furthest WhatsApp status seen for the sent message (sent, delivered, read), so a
-- late or replayed `delivered` never undoes a `read`.

ALTER TABLE actions ADD COLUMN seq BIGINT;
ALTER TABLE actions ADD COLUMN delivery TEXT;
CREATE INDEX actions_by_seq ON actions (tenant_id, seq);
CREATE INDEX actions_by_external_id ON actions (tenant_id, external_id);

-- Webhook events already processed, keyed by WhatsApp's message id and the status (or
-- 'inbound'): Meta redelivers for days and anyone can replay a captured delivery. A status
-- can arrive before the server stored the message id of its action (WhatsApp answers the
-- send, then the webhook races the outcome's commit): it waits here with `action_id` NULL
-- and is applied when the outcome is stored.
CREATE TABLE whatsapp_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    wamid TEXT NOT NULL,
    event TEXT NOT NULL,
    failure TEXT,
    action_id TEXT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, wamid, event)
);

-- The 24-hour customer-service window belongs to the WhatsApp number, not to a client
-- record (one number may be on several records, or on none yet): the last time each
-- number wrote to the business. Replaces clients.whatsapp_inbound_at, which stays unused.
CREATE TABLE whatsapp_contacts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    wa_id TEXT NOT NULL,
    last_inbound_at BIGINT NOT NULL,
    profile_name TEXT,
    PRIMARY KEY (tenant_id, wa_id)
);
