-- A verdict exists exactly when it parsed; an unparseable row keeps its raw text and reason; every
-- critique points at a stored answer; agreement is set exactly for parsed reference answers.
SELECT critique_id AS prompt_id, 'parse_ok and verdict disagree' AS detail
FROM expert_critiques WHERE parse_ok <> (verdict IS NOT NULL)
UNION ALL
SELECT critique_id, 'unparseable without raw text or reason'
FROM expert_critiques WHERE NOT parse_ok AND (trim(raw_text) = '' OR parse_reason = '')
UNION ALL
SELECT c.critique_id, 'answer ' || c.answer_id || ' not found'
FROM expert_critiques c
LEFT JOIN policy_answers a ON c.answer_source = 'policy' AND a.answer_id = c.answer_id
LEFT JOIN reference_answers r ON c.answer_source = 'reference' AND r.answer_id = c.answer_id
WHERE a.answer_id IS NULL AND r.answer_id IS NULL
UNION ALL
SELECT critique_id, 'agreement flag inconsistent with reference / verdict'
FROM expert_critiques
WHERE (agrees_with_reference IS NOT NULL) <> (reference_verdict IS NOT NULL AND parse_ok)
   OR agrees_with_reference <> (verdict = reference_verdict);
