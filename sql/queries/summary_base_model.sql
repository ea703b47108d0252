-- For the summary: the base model, its architecture, size and path.
SELECT model_id, architecture, n_parameters, path FROM models WHERE model_key = 'base';
