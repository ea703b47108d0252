-- The records already pushed to Argilla dataset $dataset_id, with the content hash each was pushed with.
SELECT record_id, content_hash FROM review_pushes WHERE dataset_id = $dataset_id;
