-- No eval item (plain, attacked, math or bring-your-own) shares a near-duplicate group with a train-split
-- prompt of the pool: an evaluation never scores what the models were trained on.
SELECT i.item_id, i.source, i.group_key
FROM eval_items i
JOIN (SELECT DISTINCT group_key FROM prompt_pool WHERE split = 'train') t ON t.group_key = i.group_key
UNION ALL
SELECT item_id, source, group_key FROM eval_items WHERE group_key IS NULL;
