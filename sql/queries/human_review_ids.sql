-- The id of every review response version already imported from Argilla dataset $dataset_id.
SELECT review_id FROM human_reviews WHERE dataset_id = $dataset_id;
