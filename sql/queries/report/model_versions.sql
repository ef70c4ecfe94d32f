-- Versions recorded by the latest successful run of each stage.
select * from reporting.rpt_model_versions;
