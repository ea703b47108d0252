-- No response on both sides of the human-label split: a label in `human_labels` (what measures the judges)
-- whose response, normalised (lower case, every run of non-letters / non-digits one space, trimmed), is also a
-- response on the teacher_train side (what the offline expert learns from and the Other-Exp ablation trains
-- on), any normalised response the split put on both sides, and any probe-fit item (`probe_fit_labels`, what the
-- linear probes are fit on) that is not on the teacher_train side. Passes with no rows.
WITH sides AS (
    SELECT label_id, benchmark, label_split,
           trim(regexp_replace(lower(response_text), '[^\p{L}\p{N}]+', ' ', 'g')) AS response_key
    FROM human_label_split
),
measured AS (
    SELECT label_id, benchmark,
           trim(regexp_replace(lower(response_text), '[^\p{L}\p{N}]+', ' ', 'g')) AS response_key
    FROM human_labels
)
SELECT m.label_id, m.benchmark,
       'response also on the teacher_train side as ' || t.benchmark || ' ' || t.label_id AS detail
FROM measured m
JOIN sides t ON t.label_split = 'teacher_train' AND t.response_key = m.response_key
UNION ALL
SELECT min(label_id) AS label_id, min(benchmark) AS benchmark,
       'normalised response on both sides of the split (' || count(*) || ' labels)' AS detail
FROM sides
GROUP BY response_key
HAVING count(DISTINCT label_split) > 1
UNION ALL
SELECT p.label_id, p.benchmark, 'probe-fit item not on the teacher_train side of the split' AS detail
FROM probe_fit_labels p
LEFT JOIN human_label_split t ON t.label_id = p.label_id AND t.label_split = 'teacher_train'
WHERE t.label_id IS NULL;
