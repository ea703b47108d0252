-- The id of every cached judgement (what is already judged is not judged again).
SELECT judgement_id FROM judge_cache;
