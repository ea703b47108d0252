-- Where the import from Argilla dataset $dataset_id stands: its cursor and the total imported (no row before
-- the first import).
SELECT cursor, imported_total FROM review_import_state WHERE dataset_id = $dataset_id;
