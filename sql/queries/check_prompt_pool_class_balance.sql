-- Share of harmful prompts per split must lie within [$min_harmful, $max_harmful].
SELECT split AS prompt_id,
       'harmful share ' || round(avg(CASE WHEN label = 'harmful' THEN 1.0 ELSE 0.0 END), 4)
       || ' outside [' || $min_harmful || ', ' || $max_harmful || ']' AS detail
FROM prompt_pool
GROUP BY split
HAVING avg(CASE WHEN label = 'harmful' THEN 1.0 ELSE 0.0 END) NOT BETWEEN $min_harmful AND $max_harmful;
