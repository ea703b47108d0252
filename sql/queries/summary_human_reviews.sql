-- For the summary: how many review responses were imported, from how many annotators.
SELECT count(*) AS n, count(DISTINCT annotator) AS a FROM human_reviews;
