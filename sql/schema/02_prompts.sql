-- Replaced whole on every materialization. No PRIMARY KEY on purpose: DuckDB's index makes a
-- delete + re-insert of the whole table in one transaction ~25x slower (measured: 23 s vs 0.9 s for
-- 800k rows). Uniqueness is enforced by the blocking checks (GX unique + check_prompt_pool_unique_ids).
CREATE TABLE IF NOT EXISTS prompt_pool (
    prompt_id        VARCHAR NOT NULL,  -- sha256 of the exact text, 16 hex
    text             VARCHAR NOT NULL,
    label            VARCHAR NOT NULL,     -- harmful | benign
    category         VARCHAR NOT NULL,     -- a category id of the safety spec
    source_category  VARCHAR NOT NULL,     -- the source's own label, kept for audit
    source           VARCHAR NOT NULL,
    source_record    VARCHAR NOT NULL,     -- where in the source: file:line, behaviour id, ...
    licence          VARCHAR NOT NULL,
    split            VARCHAR NOT NULL,     -- train | eval
    norm_key         VARCHAR NOT NULL,     -- text after normalising case, whitespace, punctuation
    group_key        VARCHAR NOT NULL,     -- near-duplicate group; a group never straddles the split
    n_chars          INTEGER NOT NULL,
    n_merged         INTEGER NOT NULL,     -- raw records merged into this one by deduplication
    merged_sources   VARCHAR NOT NULL,     -- comma-separated sources of the merged records
    spec_hash        VARCHAR NOT NULL
);
