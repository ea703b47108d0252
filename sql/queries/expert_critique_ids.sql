-- The id of every stored teacher critique (what is already judged is not judged again).
SELECT critique_id FROM expert_critiques;
