-- Two examples with the same verifier input (spec + prompt + answer + judged part) would weigh it twice,
-- or teach it two verdicts. Returns the duplicated inputs (none expected).
SELECT spec_text, prompt_text, final_answer, target, count(*) AS n
FROM verification_examples
GROUP BY ALL
HAVING count(*) > 1;
