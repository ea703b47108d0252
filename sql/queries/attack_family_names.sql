-- The name of every known attack family.
SELECT family FROM attack_families;
