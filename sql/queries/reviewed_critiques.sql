-- Teacher critiques with the human verdicts folded in. Per record, each annotator's latest response (in any
-- review dataset: the main one or the disputed queue) counts once; the majority of submitted verdicts is the
-- human verdict and the latest non-empty corrected critique replaces the teacher's. Annotators who disagree
-- with no majority (a tie) make the record `disputed`: it keeps the teacher's verdict and the teacher's
-- critique (never one side's corrected critique) until a majority exists, and the disputed_review asset sends
-- it back to review for another annotator. A human verdict that overrides the teacher's without a corrected critique keeps no critique:
-- the teacher's argued for the other verdict, and a training target must never contradict its verdict.
WITH latest AS (
    SELECT *
    FROM human_reviews
    QUALIFY row_number() OVER (PARTITION BY record_id, annotator_id
                               ORDER BY response_updated_at DESC, review_id) = 1
), votes AS (
    SELECT record_id,
           count(*) FILTER (WHERE status = 'submitted' AND verdict IS NOT NULL) AS n,
           count(*) FILTER (WHERE status = 'submitted' AND verdict = 'SAFE')   AS n_safe,
           count(*) FILTER (WHERE status = 'submitted' AND verdict = 'UNSAFE') AS n_unsafe,
           arg_max(corrected_critique, response_updated_at)
               FILTER (WHERE status = 'submitted' AND trim(coalesce(corrected_critique, '')) <> '') AS corrected
    FROM latest
    GROUP BY record_id
), decided AS (
    SELECT c.*, coalesce(v.n, 0) AS n_annotators, v.corrected,
           CASE WHEN v.n_safe > v.n_unsafe THEN 'SAFE' WHEN v.n_unsafe > v.n_safe THEN 'UNSAFE' END AS human_verdict,
           CASE WHEN v.n > 0 THEN greatest(v.n_safe, v.n_unsafe) / v.n END AS human_agreement
    FROM expert_critiques c
    LEFT JOIN votes v ON v.record_id = c.critique_id
)
SELECT critique_id, answer_id, answer_source, target,
       verdict                              AS teacher_verdict,
       human_verdict,
       coalesce(human_verdict, verdict)     AS final_verdict,
       CASE WHEN n_annotators > 0 AND human_verdict IS NULL THEN 'disputed'
            WHEN n_annotators > 0 THEN 'human'
            WHEN verdict IS NOT NULL THEN 'teacher'
            ELSE 'none' END                 AS verdict_source,
       CASE WHEN human_verdict IS NULL THEN critique
            WHEN corrected IS NOT NULL THEN corrected
            WHEN human_verdict IS DISTINCT FROM verdict THEN ''
            ELSE critique END               AS critique,
       parse_ok,
       n_annotators::INTEGER                AS n_annotators,
       human_agreement::DOUBLE              AS human_agreement
FROM decided
ORDER BY critique_id;
