-- The path of the newest evaluation report (no row before the first evaluation).
SELECT report_path FROM evaluation_runs ORDER BY created_at DESC LIMIT 1;
