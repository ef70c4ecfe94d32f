-- Hash of the taxonomy the registry was last mapped with (null before the first run).
select max(taxonomy_hash) from enrich.theme_categories
