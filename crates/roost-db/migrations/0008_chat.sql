-- Chat: conversations and their messages, per tenant and user; usage per answer for
-- analytics; and secrets of integrations (the LLM provider's API key), encrypted by the
-- server (nonce + ciphertext) and never sent to devices.

CREATE TABLE conversations (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    title TEXT NOT NULL,
    messages BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX conversations_by_user ON conversations (tenant_id, user_id, updated_at);

CREATE TABLE chat_messages (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    -- 'user' | 'assistant'
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    -- JSON array of citations
    citations TEXT NOT NULL,
    -- 'streaming' | 'complete' | 'failed'
    status TEXT NOT NULL,
    error TEXT,
    provider TEXT,
    -- the role the question was asked in
    role TEXT,
    rating TEXT,
    feedback TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
);
CREATE INDEX chat_messages_by_conversation ON chat_messages (tenant_id, conversation_id, created_at);

CREATE TABLE chat_usage (
    tenant_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT,
    -- 'complete' | an error code
    outcome TEXT NOT NULL,
    input_tokens BIGINT,
    output_tokens BIGINT,
    retrieval_ms BIGINT NOT NULL,
    first_token_ms BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    sources BIGINT NOT NULL,
    cited BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);

CREATE TABLE integration_secrets (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
