-- How many teacher critiques did not parse (one row, column n).
SELECT count(*) AS n FROM expert_critiques WHERE NOT parse_ok;
