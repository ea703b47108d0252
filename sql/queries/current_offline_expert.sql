-- The offline expert fitted last (the teacher when the teacher backend is offline_expert).
SELECT * FROM offline_experts ORDER BY created_at DESC LIMIT 1;
