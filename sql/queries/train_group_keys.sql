-- The near-duplicate groups of the pool's train split (an eval item in one of them repeats a train prompt).
SELECT DISTINCT group_key FROM prompt_pool WHERE split = 'train';
