-- Shared SQL macros (created before the tables; every query may use them).

-- The spec in a few lines, the same for every item whatever its label: the summary and the names of all harm
-- categories (no category's rule is singled out: that would tell the judge the label). The judge's request
-- itself states the verdict format.
CREATE OR REPLACE MACRO spec_compact(body_json) AS
    trim(json_extract_string(body_json, '$.summary'), ' ' || chr(10)) || chr(10) || chr(10)
    || 'Harm categories: '
    || array_to_string(list_transform(
           list_filter(json_extract(body_json, '$.categories[*]'), c -> json_extract_string(c, '$.id') <> 'benign'),
           c -> json_extract_string(c, '$.name')), '; ')
    || '.';

-- The spec context a verifier or judge reads: the whole rendered spec ('full', as the paper) or the compact
-- spec ('compact'). Either way every item gets the same text: the context never depends on the item's label.
CREATE OR REPLACE MACRO spec_context(mode, rendered, body_json) AS
    CASE WHEN mode = 'full' THEN rendered ELSE spec_compact(body_json) END;
