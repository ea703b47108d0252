-- Every stored answer with the prompt the policy saw.
SELECT a.answer_id, a.reasoning, a.final_answer, p.text AS prompt_text
FROM policy_answers a
JOIN attacked_prompts p USING (attack_id)
ORDER BY a.answer_id;
