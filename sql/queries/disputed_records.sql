-- Records whose annotators disagree with no majority (`disputed` in the curated critiques), with how many
-- annotators voted and how many response versions exist so far: they go back to review (the disputed queue)
-- until a majority exists; a new response on a record still disputed reopens it there.
SELECT r.critique_id, r.n_annotators, count(h.review_id) AS responses
FROM reviewed_critiques r
LEFT JOIN human_reviews h ON h.record_id = r.critique_id
WHERE r.verdict_source = 'disputed'
GROUP BY ALL
ORDER BY r.critique_id;
