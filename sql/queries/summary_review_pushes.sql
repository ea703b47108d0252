-- For the summary: records pushed to Argilla per review route, in routing priority order.
SELECT route, count(*) AS n FROM review_pushes GROUP BY route ORDER BY min(priority);
