import duckdb
import pytest

from pipelines import warehouse


def test_models_build_in_dependency_order_and_rebuild_safely(settings):
    first = warehouse.init(settings)
    second = warehouse.init(settings)
    assert first == second
    layers = [name.split(".")[0] for name in first]
    assert layers == sorted(layers, key=warehouse.LAYERS.index)
    assert "reporting.rpt_feedback_comments" in first


def test_no_reporting_view_selects_raw_text(settings):
    warehouse.init(settings)
    with warehouse.connect(settings, read_only=True) as con:
        cols = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema in ('reporting', 'marts') and column_name in ('text', 'raw_text')"
        ).fetchall()
    assert cols == []


def test_named_sql_missing_file_is_a_clear_error(settings):
    with pytest.raises(warehouse.WarehouseError, match="no SQL file"):
        warehouse.sql_text(settings, "ops/does_not_exist")


def test_encrypted_warehouse_needs_its_key(settings):
    enc = settings.with_(encryption_key="correct horse battery staple")
    warehouse.init(enc)
    with warehouse.connect(enc, read_only=True) as con:
        assert con.execute("select count(*) from raw.feedback").fetchone()[0] == 0
    with pytest.raises(warehouse.WarehouseError, match="FEEDBACK_ENCRYPTION_KEY"), warehouse.connect(settings):
        pass
    with (
        pytest.raises(warehouse.WarehouseError, match="wrong key"),
        warehouse.connect(settings.with_(encryption_key="wrong")),
    ):
        pass
    # The file holds no plaintext table names.
    assert b"feedback_history" not in settings.warehouse.read_bytes()


def test_counts_of_missing_relation(settings):
    warehouse.init(settings)
    counts = warehouse.table_counts(settings, ["raw.feedback", "raw.nope"])
    assert counts == {"raw.feedback": 0, "raw.nope": -1}
    assert isinstance(duckdb.__version__, str)


def test_scripts_may_hold_semicolons_in_literals_and_comments(settings, tmp_path):
    sql_dir = tmp_path / "sql"
    (sql_dir / "ops").mkdir(parents=True)
    (sql_dir / "ops" / "script.sql").write_text(
        "create table t (x varchar); -- trailing note; with a semicolon\n"
        "insert into t values ('a;b');\ninsert into t values ('c');\n"
    )
    custom = settings.with_(sql_dir=sql_dir)
    con = duckdb.connect()
    warehouse.run_script(con, custom, "ops/script")
    assert con.execute("select x from t order by x").fetchall() == [("a;b",), ("c",)]


# --------------------------------------------------------------------------------------
# Incremental builds: ops.schema_migrations (issue 16, item 4)
# --------------------------------------------------------------------------------------
def _action(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert into ops.actions values ('A1', 'T1', null, null, date '2026-01-05', null, 'more staff', "
        "null, 'planned', 'cli', now())"
    )


def test_a_second_build_rebuilds_nothing_and_records_every_file(settings):
    with warehouse.connect(settings) as con:
        schema = warehouse.apply_schema(con, settings)
        first = warehouse.refresh_models(con, settings)
        second = warehouse.refresh_models(con, settings)
        assert warehouse.apply_schema(con, settings) == []
        recorded = dict(con.execute("select name, kind from ops.schema_migrations").fetchall())
    assert schema and first.built == first.models and second.built == []
    assert second.models == first.models
    files = {f"{p.parent.name}/{p.stem}" for p in warehouse.model_files(settings)}
    assert set(recorded) == files | set(schema)
    assert recorded["marts/fct_feedback"] == "table" and recorded["reporting/rpt_run_status"] == "view"


def test_new_data_rebuilds_only_the_tables_built_from_it(settings):
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        _action(con)
        built = warehouse.refresh_models(con, settings).built
        effect = con.execute("select count(*) from marts.fct_kpi_action_effect").fetchone()[0]
        assert warehouse.refresh_models(con, settings).built == []
    # ops.actions feeds one mart; the views over it are live and need no rebuild.
    assert built == ["marts.fct_kpi_action_effect"]
    assert effect == 1


def test_a_stage_refresh_leaves_new_data_to_the_report_and_builds_what_it_reads(settings):
    """``marts=()`` (every stage before the report) rebuilds no mart for new data alone (issue 16)."""
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        _action(con)
        assert warehouse.refresh_models(con, settings, marts=()).built == []
        assert _rows(con, "marts.fct_kpi_action_effect") == 0, "stale until a refresh that covers it"
        # A refresh for another mart leaves this one alone too.
        assert warehouse.refresh_models(con, settings, marts=("marts.fct_responses",)).built == []
        # The report's refresh (all marts) sees the data it skipped: its recorded key is the old one.
        assert warehouse.refresh_models(con, settings).built == ["marts.fct_kpi_action_effect"]
        assert _rows(con, "marts.fct_kpi_action_effect") == 1
        assert warehouse.refresh_models(con, settings, marts=("marts.fct_kpi_action_effect",)).built == []
        with pytest.raises(warehouse.WarehouseError, match="not table models"):
            warehouse.refresh_models(con, settings, marts=("reporting.rpt_actions",))


def _with_dim_theme_edited(settings, tmp_path):  # noqa: ANN001, ANN202
    """A built warehouse on a copy of the SQL whose marts/dim_theme.sql then gets an edit (a comment)."""
    import shutil

    sql_dir = tmp_path / "sql"
    shutil.copytree(settings.sql_dir, sql_dir)
    custom = settings.with_(sql_dir=sql_dir)
    warehouse.init(custom)
    path = sql_dir / "marts" / "dim_theme.sql"
    path.write_text(path.read_text(encoding="utf-8") + "\n-- a comment is an edit too\n", encoding="utf-8")
    warehouse._read_sql.cache_clear()
    return custom


def test_a_stage_refresh_still_builds_missing_and_edited_tables(settings, tmp_path):
    """Views must be creatable after any refresh: a missing mart or one with new SQL is built anyway."""
    custom = _with_dim_theme_edited(settings, tmp_path)
    try:
        with warehouse.connect(custom) as con:
            con.execute("drop table marts.fct_complaints")
            _action(con)
            built = warehouse.refresh_models(con, custom, marts=()).built
    finally:
        warehouse._read_sql.cache_clear()
    assert {"marts.dim_theme", "marts.fct_complaints"} <= set(built)
    assert "marts.fct_kpi_action_effect" not in built, "only its data changed"


def test_an_edited_model_rebuilds_itself_and_what_reads_it(settings, tmp_path):
    custom = _with_dim_theme_edited(settings, tmp_path)
    try:
        with warehouse.connect(custom) as con:
            built = warehouse.refresh_models(con, custom).built
    finally:
        warehouse._read_sql.cache_clear()
    readers = {m.name for m in warehouse.models(custom) if "marts.dim_theme" in m.deps}
    assert built[0] == "marts.dim_theme" and readers and readers <= set(built)
    assert "marts.fct_complaints" not in built and "staging.stg_raw__feedback" not in built


def test_a_dropped_relation_is_recreated(settings):
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        con.execute("drop view reporting.rpt_run_status")
        con.execute("drop table marts.fct_responses")
        con.execute("drop table ops.actions")
        schema = warehouse.apply_schema(con, settings)
        built = warehouse.refresh_models(con, settings).built
        assert con.execute("select count(*) from ops.actions").fetchone()[0] == 0
    # A missing schema table re-runs every (idempotent) schema file.
    assert len(schema) == len(list((settings.sql_dir / "schema").glob("*.sql")))
    assert {"reporting.rpt_run_status", "marts.fct_responses"} <= set(built)
    assert "marts.fct_feedback" not in built


def test_force_rebuilds_everything(settings):
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        build = warehouse.refresh_models(con, settings, force=True)
    assert build.built == build.models


def test_table_fingerprints_follow_content_not_order(settings):
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        before = warehouse.table_fingerprints(con, settings, ["ops.actions", "raw.nope"])
        _action(con)
        after = warehouse.table_fingerprints(con, settings, ["ops.actions"])
        con.execute("update ops.actions set description = 'fewer staff'")
        edited = warehouse.table_fingerprints(con, settings, ["ops.actions"])
        con.execute("update ops.actions set description = 'more staff'")
        back = warehouse.table_fingerprints(con, settings, ["ops.actions"])
    assert before["raw.nope"] == "missing" and before["ops.actions"] == "0:0"
    assert after["ops.actions"] != before["ops.actions"] and edited["ops.actions"] != after["ops.actions"]
    assert back == after


# --------------------------------------------------------------------------------------
# Published marts: reporting views move once per complete run (issue 17, item 3)
# --------------------------------------------------------------------------------------
def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_reporting_views_move_only_when_the_marts_are_published(settings):
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        _action(con)
        assert warehouse.refresh_models(con, settings).built == ["marts.fct_kpi_action_effect"]
        # A stage has refreshed the marts; the run is not complete, so readers still see the last one.
        assert _rows(con, "marts.fct_kpi_action_effect") == 1
        assert _rows(con, "published.fct_kpi_action_effect") == 0
        assert _rows(con, "reporting.rpt_actions") == 0
        assert warehouse.publish(con, settings) == ["marts.fct_kpi_action_effect"]
        assert _rows(con, "reporting.rpt_actions") == 1
        assert warehouse.publish(con, settings) == [], "nothing changed: nothing is copied again"


def test_a_model_build_inside_a_run_publishes_nothing(settings):
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        _action(con)
    warehouse.init(settings, publish_marts=False)  # the ingest DAG's model build
    with warehouse.connect(settings, read_only=True) as con:
        assert _rows(con, "marts.fct_kpi_action_effect") == 1
        assert _rows(con, "reporting.rpt_actions") == 0
    warehouse.init(settings)
    with warehouse.connect(settings, read_only=True) as con:
        assert _rows(con, "reporting.rpt_actions") == 1


def test_a_mart_with_new_columns_is_published_empty_until_the_next_publish(settings, tmp_path):
    import shutil

    sql_dir = tmp_path / "sql"
    shutil.copytree(settings.sql_dir, sql_dir)
    custom = settings.with_(sql_dir=sql_dir)
    warehouse.init(custom)
    with warehouse.connect(custom) as con:
        _action(con)
    warehouse.init(custom)
    path = sql_dir / "marts" / "fct_kpi_action_effect.sql"
    text = path.read_text(encoding="utf-8").rstrip().rstrip(";")
    head, body = text.split("create or replace table marts.fct_kpi_action_effect as", 1)
    path.write_text(
        f"{head}create or replace table marts.fct_kpi_action_effect as\nselect *, 1 as new_column from (\n{body}\n);\n",
        encoding="utf-8",
    )
    warehouse._read_sql.cache_clear()
    try:
        with warehouse.connect(custom) as con:
            warehouse.refresh_models(con, custom)
            columns = [r[0] for r in con.execute("describe published.fct_kpi_action_effect").fetchall()]
            assert "new_column" in columns
            # New code, old run: the copy is empty rather than mixing the two; the views still work.
            assert _rows(con, "published.fct_kpi_action_effect") == 0
            assert _rows(con, "reporting.rpt_actions") == 0
            assert warehouse.publish(con, custom) == ["marts.fct_kpi_action_effect"]
            assert _rows(con, "reporting.rpt_actions") == 1
    finally:
        warehouse._read_sql.cache_clear()


def test_every_reporting_view_reads_published_marts_not_the_working_ones(settings):
    for m in warehouse.models(settings):
        if m.name.startswith("reporting."):
            assert "marts." not in m.text.replace("published.", ""), m.name
