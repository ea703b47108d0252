-- The id of every stored policy answer (what is already generated is not generated again).
SELECT answer_id FROM policy_answers;
