-- The spec context a judge reads, one row per category of the current spec (so that an item of a category the
-- spec does not define is caught), plus one row with category_id NULL; every row carries the same text.
WITH spec AS (
    SELECT spec_hash, rendered_text, body_json
    FROM safety_spec
    ORDER BY created_at DESC
    LIMIT 1
)
SELECT sc.category_id, spec.spec_hash,
       spec_context($spec_context, spec.rendered_text, spec.body_json)
           AS spec_text
FROM spec
JOIN spec_categories sc ON sc.spec_hash = spec.spec_hash
UNION ALL
SELECT NULL AS category_id, spec.spec_hash,
       spec_context($spec_context, spec.rendered_text, spec.body_json) AS spec_text
FROM spec
ORDER BY category_id NULLS FIRST;
