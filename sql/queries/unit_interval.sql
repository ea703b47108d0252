-- sha256($salt || v) per row of the frame `frame` (not a warehouse table): its first 8 bytes as a big-endian
-- integer, divided by 2**64 (in [0, 1)).
SELECT ('0x' || left(sha256($salt || v), 16))::UBIGINT::DOUBLE / 18446744073709551616.0 AS h FROM frame;
