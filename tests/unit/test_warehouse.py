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
