-- The spec context a judge reads, per category of the current spec, plus one row with category_id NULL for
-- items of no known category (the summary alone, or the whole spec in 'full' mode).
WITH spec AS (
    SELECT spec_hash, rendered_text, json_extract_string(body_json, '$.summary') AS summary
    FROM safety_spec
    ORDER BY created_at DESC
    LIMIT 1
)
SELECT sc.category_id, spec.spec_hash,
       spec_context($spec_context, spec.rendered_text, spec.summary, sc.name, sc.category_id, sc.definition)
           AS spec_text
FROM spec
JOIN spec_categories sc ON sc.spec_hash = spec.spec_hash
UNION ALL
SELECT NULL AS category_id, spec.spec_hash,
       spec_context($spec_context, spec.rendered_text, spec.summary, NULL, NULL, NULL) AS spec_text
FROM spec
ORDER BY category_id NULLS FIRST;
