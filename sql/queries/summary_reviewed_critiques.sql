-- For the summary: curated verdicts per verdict source.
SELECT verdict_source, count(*) AS n FROM reviewed_critiques GROUP BY ALL ORDER BY ALL;
