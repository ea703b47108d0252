-- Generated rows only ever get appended (work is keyed by content hash and skipped when present), so a
-- rerun or a resumed run never duplicates: the PRIMARY KEY makes a duplicate a hard error, not a row.
CREATE TABLE IF NOT EXISTS policy_answers (
    answer_id          VARCHAR PRIMARY KEY,  -- generation_key(prompt text, template, model, sampling, sample index)
    attack_id          VARCHAR NOT NULL,
    prompt_id          VARCHAR NOT NULL,
    sample_index       INTEGER NOT NULL,
    model_id           VARCHAR NOT NULL,
    model_hash         VARCHAR NOT NULL,
    backend            VARCHAR NOT NULL,
    params_json        VARCHAR NOT NULL,
    raw_text           VARCHAR NOT NULL,
    reasoning          VARCHAR NOT NULL,
    final_answer       VARCHAR NOT NULL,
    reasoning_closed   BOOLEAN NOT NULL,
    finish_reason      VARCHAR NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL
);

-- Answers with a known reference verdict (matched safe / unsafe answer pairs), judged by the teacher
-- alongside the policy's answers so that its agreement with the reference can be measured.
CREATE TABLE IF NOT EXISTS reference_answers (
    answer_id          VARCHAR PRIMARY KEY,  -- content hash of (prompt, answer)
    prompt_text        VARCHAR NOT NULL,
    final_answer       VARCHAR NOT NULL,
    reference_verdict  VARCHAR NOT NULL,     -- SAFE | UNSAFE
    source             VARCHAR NOT NULL,
    source_record      VARCHAR NOT NULL,
    licence            VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS expert_critiques (
    critique_id        VARCHAR PRIMARY KEY,  -- key of (answer, target, teacher, sampling, spec)
    answer_id          VARCHAR NOT NULL,
    answer_source      VARCHAR NOT NULL,     -- policy | reference
    reference_verdict  VARCHAR,              -- the reference label, for reference answers
    agrees_with_reference BOOLEAN,           -- NULL when there is no reference or the verdict did not parse
    target             VARCHAR NOT NULL,     -- final_answer | reasoning (judged separately)
    teacher_id         VARCHAR NOT NULL,
    teacher_hash       VARCHAR NOT NULL,
    backend            VARCHAR NOT NULL,
    params_json        VARCHAR NOT NULL,
    spec_hash          VARCHAR NOT NULL,
    raw_text           VARCHAR NOT NULL,     -- the last attempt's output, verbatim
    critique           VARCHAR NOT NULL,
    verdict            VARCHAR,              -- SAFE | UNSAFE | NULL when no attempt parsed
    parse_ok           BOOLEAN NOT NULL,
    parse_reason       VARCHAR NOT NULL,
    attempts           INTEGER NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    verdict_score      DOUBLE                -- the teacher's probability of its verdict word; NULL if unknown
);
-- Warehouses created before verdict_score existed get the column (NULL for the critiques already stored).
ALTER TABLE expert_critiques ADD COLUMN IF NOT EXISTS verdict_score DOUBLE;

-- Every fit of the offline expert teacher (sinternal_assets/judging/offline_expert.py): a classifier learnt from
-- the teacher_train side of the human-labelled sets, with its accuracy measured on the held-out side.
CREATE TABLE IF NOT EXISTS offline_experts (
    expert_hash        VARCHAR PRIMARY KEY,  -- of its format, settings, spec and training labels
    teacher_id         VARCHAR NOT NULL,
    path               VARCHAR NOT NULL,     -- the fitted model (joblib)
    spec_hash          VARCHAR NOT NULL,
    n_train            INTEGER NOT NULL,
    n_train_unsafe     INTEGER NOT NULL,
    c                  DOUBLE NOT NULL,      -- inverse regularisation strength of the logistic regression
    cv_accuracy        DOUBLE NOT NULL,      -- grouped k-fold cross-validation on its train side
    heldout_n          INTEGER NOT NULL,
    heldout_accuracy   DOUBLE NOT NULL,      -- on the held-out human labels (never trained on)
    heldout_f1         DOUBLE NOT NULL,
    heldout_by_benchmark_json VARCHAR NOT NULL,
    created_at         TIMESTAMP NOT NULL
);
