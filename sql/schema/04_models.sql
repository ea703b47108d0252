CREATE TABLE IF NOT EXISTS models (
    model_key      VARCHAR PRIMARY KEY,  -- role name, e.g. base
    model_id       VARCHAR NOT NULL,     -- what the user configured (artifact name, hub id, folder)
    path           VARCHAR NOT NULL,     -- a Hugging Face folder any backend can load
    content_hash   VARCHAR NOT NULL,
    architecture   VARCHAR NOT NULL,
    n_parameters   BIGINT NOT NULL,
    dtype          VARCHAR NOT NULL,
    licence        VARCHAR NOT NULL,
    has_chat_template BOOLEAN NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
