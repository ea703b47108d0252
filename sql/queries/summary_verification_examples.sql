-- For the summary: verifier examples per split and final verdict.
SELECT split, final_verdict, count(*) AS n FROM verification_examples GROUP BY ALL ORDER BY ALL;
