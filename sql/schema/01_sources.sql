-- One row per spec version ever materialized; the current one is the latest `created_at`.
CREATE TABLE IF NOT EXISTS safety_spec (
    spec_hash      VARCHAR PRIMARY KEY,
    name           VARCHAR NOT NULL,
    version        VARCHAR NOT NULL,
    source_path    VARCHAR NOT NULL,
    body_json      VARCHAR NOT NULL,
    rendered_text  VARCHAR NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS spec_categories (
    spec_hash      VARCHAR NOT NULL,
    category_id    VARCHAR NOT NULL,
    name           VARCHAR NOT NULL,
    definition     VARCHAR NOT NULL,
    PRIMARY KEY (spec_hash, category_id)
);

-- Every data source, with the pinned artifact it came from and its licence.
CREATE TABLE IF NOT EXISTS prompt_sources (
    source         VARCHAR PRIMARY KEY,
    kind           VARCHAR NOT NULL,   -- harmful_prompts | benign_prompts | mixed_prompts | jailbreak_templates | user_prompts
    artifact       VARCHAR NOT NULL,   -- artifacts.yaml name, or the user file path
    package        VARCHAR NOT NULL,
    version        VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,   -- of the wheel (or user file)
    files_json     VARCHAR NOT NULL,   -- member path -> sha256
    licence        VARCHAR NOT NULL,
    upstream       VARCHAR NOT NULL,
    n_records      BIGINT NOT NULL,
    description    VARCHAR NOT NULL
);

-- Every raw record read from every source (built-in and user files), already mapped onto the spec's
-- categories. `prompt_pool` deduplicates and splits these.
CREATE TABLE IF NOT EXISTS source_prompts (
    text             VARCHAR NOT NULL,
    label            VARCHAR NOT NULL,
    category         VARCHAR NOT NULL,
    source_category  VARCHAR NOT NULL,
    source_record    VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,
    licence          VARCHAR NOT NULL
);
