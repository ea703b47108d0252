SELECT prompt_id, 'empty or whitespace-only text' AS detail
FROM prompt_pool
WHERE length(trim(text)) = 0;
