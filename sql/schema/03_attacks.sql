CREATE TABLE IF NOT EXISTS attack_families (
    family         VARCHAR PRIMARY KEY,
    role           VARCHAR NOT NULL,   -- train | heldout | none
    kind           VARCHAR NOT NULL,   -- plain | template | transform
    n_templates    INTEGER NOT NULL,
    source         VARCHAR NOT NULL,
    licence        VARCHAR NOT NULL,
    description    VARCHAR NOT NULL
);

-- Replaced whole on every materialization; no PRIMARY KEY for the same reason as prompt_pool.
-- Uniqueness is enforced by the blocking checks (GX unique + check_attacked_prompts_integrity).
CREATE TABLE IF NOT EXISTS attacked_prompts (
    attack_id      VARCHAR NOT NULL,  -- hash of (prompt_id, family, template_id, variant)
    prompt_id      VARCHAR NOT NULL,
    family         VARCHAR NOT NULL,
    family_role    VARCHAR NOT NULL,     -- train | heldout (the plain `none` family is train-side)
    template_id    VARCHAR NOT NULL,
    variant        INTEGER NOT NULL,
    text           VARCHAR NOT NULL,     -- the prompt as the policy model will see it
    label          VARCHAR NOT NULL,
    category       VARCHAR NOT NULL,
    split          VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    n_chars        INTEGER NOT NULL
);
