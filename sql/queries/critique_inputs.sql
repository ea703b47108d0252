-- Every stored policy answer with the prompt the policy saw, plus a slice of reference answers.
-- prompt_label (harmful | benign: the prompt pool's label) is for the offline expert teacher, which may use what
-- the pipeline knows; the verifier's own input never carries it.
SELECT a.answer_id, 'policy' AS answer_source, a.reasoning, a.final_answer, p.text AS prompt_text,
       NULL::VARCHAR AS reference_verdict, p.label AS prompt_label
FROM policy_answers a
JOIN attacked_prompts p USING (attack_id)
UNION ALL
(SELECT answer_id, 'reference', '', final_answer, prompt_text, reference_verdict,
        CASE reference_verdict WHEN 'SAFE' THEN 'benign' ELSE 'harmful' END
 FROM reference_answers
 -- both labels interleaved, so that a small slice holds SAFE and UNSAFE references alike
 ORDER BY row_number() OVER (PARTITION BY reference_verdict ORDER BY answer_id), reference_verdict, answer_id
 LIMIT $max_reference_answers)
ORDER BY answer_source, answer_id;
