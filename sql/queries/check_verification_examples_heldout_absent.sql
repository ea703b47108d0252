-- Held-out attack families measure generalisation: none of their prompts may become a training or
-- evaluation example of the verifier. Returns the offending examples (none expected).
SELECT v.example_id, v.family
FROM verification_examples v
LEFT JOIN attack_families f USING (family)
WHERE v.family_role = 'heldout' OR f.role = 'heldout';
