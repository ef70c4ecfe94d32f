-- Tables of a written reporting extract (the rpt_* copies, meta, meta_tables), for the privacy scan.
select table_name from information_schema.tables where table_schema = 'main' order by table_name;
