-- Judgements whose hidden states are stored, with the layer groups stored for each.
SELECT judgement_id, layer_group, layers
FROM probe_states;
