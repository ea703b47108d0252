SELECT family, family_role, count(*) AS n, count(DISTINCT prompt_id) AS n_prompts,
       count(DISTINCT template_id) AS n_templates
FROM attacked_prompts
GROUP BY ALL
ORDER BY family_role, family;
