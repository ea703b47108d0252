-- For the summary: how many prompt sources were read, and their licences.
SELECT count(*) AS n, string_agg(DISTINCT licence, ', ') AS licences FROM prompt_sources;
