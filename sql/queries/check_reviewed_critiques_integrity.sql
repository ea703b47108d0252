-- Every critique is curated exactly once; a human verdict is used exactly when humans judged the record
-- and did not tie (a tie is `disputed`); the final verdict is the human's when there is one, else the teacher's;
-- a disputed record keeps the teacher's critique (never one side's corrected critique); every imported
-- review belongs to a known critique and a submitted one carries a verdict.
SELECT c.critique_id, 'critique missing from reviewed_critiques' AS detail
FROM expert_critiques c ANTI JOIN reviewed_critiques r USING (critique_id)
UNION ALL
SELECT critique_id, 'verdict source inconsistent with annotators / verdicts'
FROM reviewed_critiques
WHERE (verdict_source = 'human') <> (n_annotators > 0 AND human_verdict IS NOT NULL)
   OR (verdict_source = 'disputed') <> (n_annotators > 0 AND human_verdict IS NULL)
   OR final_verdict IS DISTINCT FROM coalesce(human_verdict, teacher_verdict)
UNION ALL
SELECT r.critique_id, 'disputed record carries a critique other than the teacher''s'
FROM reviewed_critiques r JOIN expert_critiques c USING (critique_id)
WHERE r.verdict_source = 'disputed' AND r.critique IS DISTINCT FROM c.critique
UNION ALL
SELECT h.record_id, 'human review of an unknown critique (review ' || h.review_id || ')'
FROM human_reviews h ANTI JOIN expert_critiques c ON c.critique_id = h.record_id
UNION ALL
SELECT record_id, 'submitted review without a verdict (review ' || review_id || ')'
FROM human_reviews WHERE status = 'submitted' AND verdict IS NULL;
