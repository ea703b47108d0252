-- Record the schema version just applied (one row, replaced).
INSERT OR REPLACE INTO schema_version (id, version, applied_at) VALUES (1, $version, $applied_at);
