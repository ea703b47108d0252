-- Held-out families are applied to eval-split prompts only, so they can never reach training data.
SELECT attack_id AS prompt_id, family || ' is held out but attached to a train prompt' AS detail
FROM attacked_prompts
WHERE family_role = 'heldout' AND split <> 'eval';
