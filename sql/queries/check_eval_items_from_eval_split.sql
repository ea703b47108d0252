-- Every prompt-based eval item comes from the eval split (never trained on); held-out families only from there.
SELECT i.item_id, i.source, p.split
FROM eval_items i
JOIN attacked_prompts p ON p.attack_id = i.item_id
WHERE p.split <> 'eval';
