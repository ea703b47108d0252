-- Curation and training (issue 5).

-- The verifier's training and evaluation examples, replaced whole by `verification_examples`. No PRIMARY
-- KEY (whole-table replace, as prompt_pool); uniqueness is a blocking check.
CREATE TABLE IF NOT EXISTS verification_examples (
    example_id       VARCHAR NOT NULL,   -- = critique_id of the judged answer
    answer_id        VARCHAR NOT NULL,
    attack_id        VARCHAR NOT NULL,
    prompt_id        VARCHAR NOT NULL,
    group_key        VARCHAR NOT NULL,   -- near-duplicate group of the prompt (never straddles the split)
    split            VARCHAR NOT NULL,   -- train | eval (the prompt's split)
    label            VARCHAR NOT NULL,   -- harmful | benign
    category         VARCHAR NOT NULL,
    family           VARCHAR NOT NULL,
    family_role      VARCHAR NOT NULL,   -- train (held-out families never enter)
    source           VARCHAR NOT NULL,
    target           VARCHAR NOT NULL,   -- which part of the answer was judged
    spec_text        VARCHAR NOT NULL,   -- the spec context the verifier reads
    prompt_text      VARCHAR NOT NULL,   -- the prompt as the policy saw it
    final_answer     VARCHAR NOT NULL,
    critique         VARCHAR NOT NULL,
    final_verdict    VARCHAR NOT NULL,   -- SAFE | UNSAFE (human when reviewed, else the teacher's)
    verdict_source   VARCHAR NOT NULL,   -- human | teacher
    verdict_score    DOUBLE,
    input_chars      INTEGER NOT NULL,   -- spec + prompt + answer
    target_chars     INTEGER NOT NULL,   -- critique + verdict line
    spec_hash        VARCHAR NOT NULL
);

-- Every checkpoint a training asset produced, keyed by its version (content hash of method, data, config
-- and starting model). The folder holds `model/` (merged weights: any generation backend loads it),
-- `adapter/` when LoRA was used, and `manifest.json`.
CREATE TABLE IF NOT EXISTS checkpoints (
    checkpoint_id    VARCHAR PRIMARY KEY,   -- <asset>-<version>
    asset            VARCHAR NOT NULL,
    version          VARCHAR NOT NULL,
    method           VARCHAR NOT NULL,      -- sft | grpo | somf
    path             VARCHAR NOT NULL,      -- the merged model folder
    start_model_hash VARCHAR NOT NULL,      -- content hash of the model training started from
    data_hash        VARCHAR NOT NULL,
    config_json      VARCHAR NOT NULL,
    n_examples       INTEGER NOT NULL,
    train_steps      INTEGER NOT NULL,
    final_loss       DOUBLE,
    metrics_json     VARCHAR NOT NULL,      -- per-step loss, learning rate, tokens/s, step time, rewards
    created_at       TIMESTAMP NOT NULL
);
-- what the trainer consumed by its own counts (examples seen, epochs, supervised and real tokens), how its
-- examples were fitted into max_length (shortened, dropped) and the numeric policy it ran under
ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS budget_json VARCHAR;
