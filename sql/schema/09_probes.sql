-- Linear probes on the checkpoints' hidden states (issue 23, item 4).

-- The probe-fit set, replaced whole by `judge_benchmarks`: the teacher_train side of PyRIT's human-labelled safety
-- sets (human_labels.with_label_split), capped and class-balanced per benchmark. Every checkpoint forced-chooses
-- these items only so that its hidden states are collected to FIT the probes; they never enter a judge metric (the
-- judges are measured on `human_labels`, the held-out side only; their judgements here are subject 'probe_fit').
CREATE TABLE IF NOT EXISTS probe_fit_labels (
    label_id           VARCHAR NOT NULL,
    benchmark          VARCHAR NOT NULL,   -- pyrit_harm | pyrit_objective
    task               VARCHAR NOT NULL,   -- safety
    prompt_text        VARCHAR NOT NULL,
    response_text      VARCHAR NOT NULL,
    target             VARCHAR NOT NULL,   -- final_answer
    prompt_label       VARCHAR,
    truth_unsafe       BOOLEAN NOT NULL,
    spec_text          VARCHAR NOT NULL
);

-- Hidden-state features of a forced-choice judgement, collected in its own forward pass
-- (`TransformersBackend.choice_scores`): per judgement (judge_cache.judgement_id: the judge's identity and what it
-- read) and layer group, the mean over the group's blocks of the state at the verdict position. Appended in the
-- same transaction as the judgement's chunk; a rerun collects only what is missing.
CREATE TABLE IF NOT EXISTS probe_states (
    judgement_id       VARCHAR NOT NULL,
    layer_group        VARCHAR NOT NULL,   -- early | middle | late
    layers             VARCHAR NOT NULL,   -- the group's blocks, 1-based, e.g. 1-10
    state              FLOAT[] NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (judgement_id, layer_group, layers)
);
