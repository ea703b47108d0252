-- Every stored policy answer with the prompt the policy saw, plus a slice of reference answers.
SELECT a.answer_id, 'policy' AS answer_source, a.reasoning, a.final_answer, p.text AS prompt_text,
       NULL::VARCHAR AS reference_verdict
FROM policy_answers a
JOIN attacked_prompts p USING (attack_id)
UNION ALL
(SELECT answer_id, 'reference', '', final_answer, prompt_text, reference_verdict
 FROM reference_answers
 -- both labels interleaved, so that a small slice holds SAFE and UNSAFE references alike
 ORDER BY row_number() OVER (PARTITION BY reference_verdict ORDER BY answer_id), reference_verdict, answer_id
 LIMIT $max_reference_answers)
ORDER BY answer_source, answer_id;
