-- Every category must be one of the current spec's categories.
SELECT p.prompt_id, 'unknown category ' || p.category AS detail
FROM prompt_pool p
LEFT JOIN spec_categories c
  ON c.category_id = p.category AND c.spec_hash = p.spec_hash
WHERE c.category_id IS NULL;
