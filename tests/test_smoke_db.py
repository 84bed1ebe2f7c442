import psycopg


def test_fresh_database_is_reachable(database_url):
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select count(*) from pg_namespace where nspname = 'system'").fetchone() == (0,)
