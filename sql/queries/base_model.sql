SELECT model_id, path, content_hash FROM models WHERE model_key = 'base';
