-- For the summary: attack families per role (how many, and their names).
SELECT role, count(*) AS n, string_agg(family, ', ' ORDER BY family) AS f
FROM attack_families
GROUP BY role
ORDER BY role;
