-- Human review in Argilla (issue 4).

-- What was pushed to which Argilla dataset, with the hash of what it showed: a push sends only records
-- that are new or changed, and everything again when the dataset was recreated (a new dataset_id).
CREATE TABLE IF NOT EXISTS review_pushes (
    record_id      VARCHAR NOT NULL,   -- the Argilla record id = the critique_id (a content hash)
    dataset_id     VARCHAR NOT NULL,   -- Argilla's id of the dataset
    content_hash   VARCHAR NOT NULL,   -- hash of the fields, suggestion and metadata shown
    route          VARCHAR NOT NULL,   -- disagreement | low_confidence | audit
    priority       INTEGER NOT NULL,   -- 0 = first in the annotators' queue
    pushed_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (record_id, dataset_id)
);

-- Every submitted (or discarded) response version, imported by the annotation sensor. A response edited
-- later is a new version (same response_id, later response_updated_at); importing twice adds nothing.
CREATE TABLE IF NOT EXISTS human_reviews (
    review_id            VARCHAR PRIMARY KEY,  -- hash of (response_id, response_updated_at)
    response_id          VARCHAR NOT NULL,
    record_id            VARCHAR NOT NULL,     -- = expert_critiques.critique_id
    dataset_id           VARCHAR NOT NULL,
    annotator_id         VARCHAR NOT NULL,
    annotator            VARCHAR NOT NULL,
    status               VARCHAR NOT NULL,     -- submitted | discarded
    verdict              VARCHAR,              -- SAFE | UNSAFE (NULL when discarded)
    corrected_critique   VARCHAR,
    issue_tags           VARCHAR NOT NULL,     -- JSON list
    response_updated_at  TIMESTAMP NOT NULL,
    imported_at          TIMESTAMP NOT NULL
);

-- The sensor's cursor, written in the same transaction as the rows it covers: a crash between the
-- import and the cursor update cannot happen, and a stale Dagster cursor only costs a no-op re-read.
CREATE TABLE IF NOT EXISTS review_import_state (
    dataset_id        VARCHAR PRIMARY KEY,
    cursor            TIMESTAMP NOT NULL,    -- latest response_updated_at imported
    imported_total    BIGINT NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

-- Teacher critiques with the human verdicts folded in (the input of curation): a human verdict, when
-- there is one, overrides the teacher's. Replaced whole by the `reviewed_critiques` asset.
CREATE TABLE IF NOT EXISTS reviewed_critiques (
    critique_id        VARCHAR NOT NULL,
    answer_id          VARCHAR NOT NULL,
    answer_source      VARCHAR NOT NULL,
    target             VARCHAR NOT NULL,
    teacher_verdict    VARCHAR,
    human_verdict      VARCHAR,
    final_verdict      VARCHAR,              -- human_verdict when present, else the teacher's
    verdict_source     VARCHAR NOT NULL,     -- human | teacher | none
    critique           VARCHAR NOT NULL,     -- the human's corrected critique when given, else the teacher's
    parse_ok           BOOLEAN NOT NULL,
    n_annotators       INTEGER NOT NULL,
    human_agreement    DOUBLE                -- share of annotators agreeing with the majority (NULL: none)
);
