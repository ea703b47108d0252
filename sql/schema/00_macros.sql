-- Shared SQL macros (created before the tables; every query may use them).

-- The spec context a verifier or judge reads: the whole rendered spec ('full'), or the spec's summary plus
-- the rule of the prompt's category ('category'); with no category (NULL name), the summary alone.
CREATE OR REPLACE MACRO spec_context(mode, rendered, summary, category_name, category_id, definition) AS
    CASE WHEN mode = 'full' THEN rendered
         WHEN category_name IS NULL THEN trim(summary)
         ELSE trim(summary) || chr(10) || chr(10) || category_name || ' (' || category_id || '): ' || definition
    END;
