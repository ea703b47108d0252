SELECT prompt_id, 'label ' || label || ' / category ' || category AS detail
FROM prompt_pool
WHERE label NOT IN ('harmful', 'benign')
   OR (label = 'benign') <> (category = 'benign');
