-- The first $length hex characters of sha256(v), per row of the frame `frame` (not a warehouse table).
SELECT left(sha256(v), $length) AS h FROM frame;
