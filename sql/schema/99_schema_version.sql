-- Which version of the schema (a hash of every file in sql/schema) this warehouse was last brought up to. A writer
-- runs the schema statements only when this is missing or differs from the code's; a reader never runs them.
CREATE TABLE IF NOT EXISTS schema_version (
    id          INTEGER PRIMARY KEY CHECK (id = 1),  -- one row
    version     VARCHAR NOT NULL,                    -- sha256 prefix of the schema files' text, in file order
    applied_at  TIMESTAMP NOT NULL
);
