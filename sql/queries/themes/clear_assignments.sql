-- A refit re-assigns every informative clause.
delete from enrich.theme_assignments;
delete from enrich.theme_outliers
