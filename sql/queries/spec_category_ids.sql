SELECT category_id FROM spec_categories WHERE spec_hash = $spec_hash ORDER BY category_id;
