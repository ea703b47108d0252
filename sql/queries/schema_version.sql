-- The schema version this warehouse was brought up to (no row: never recorded).
SELECT version FROM schema_version WHERE id = 1;
