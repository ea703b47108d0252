SELECT * FROM safety_spec ORDER BY created_at DESC LIMIT 1;
