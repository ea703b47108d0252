-- No template placeholder may survive into a prompt the policy sees.
SELECT attack_id AS prompt_id, family || ' / ' || template_id || ': unfilled placeholder' AS detail
FROM attacked_prompts
WHERE regexp_matches(text, '\{\{\s*prompt\s*\}\}|\[INSERT PROMPT HERE\]|INSERT PROMPT HERE|\{generator\.name\}|\{prompt\}');
