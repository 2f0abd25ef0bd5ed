"""A message store of a plant after 90 days: one million messages, written set-based in SQL.

Rows are what the engine leaves behind, spread evenly over 90 days: almost
all done (with start, finish and duration), one in 200 waiting in exception,
one in 500 dead. Loading them through the ORM would take hours; one
``INSERT ... SELECT`` per chunk takes about a minute.
"""

import time

import psycopg2

CHUNK = 100_000

INSERT = """
INSERT INTO integration_message (
    backend_id, flow_id, flow_version, company_id, warehouse_id, flow_code, direction,
    idempotency_key, correlation_id, ordering_key, state, error_kind, error_message,
    exception_since, payload, attempts, received_at, started_at, finished_at, duration,
    create_uid, write_uid, create_date, write_date
)
SELECT f.backend_id, f.id, f.version, b.company_id, b.warehouse_id, f.code, f.direction,
       'store-' || n, md5(n::text), 'STORE/' || (n %% 5000), s.state,
       CASE WHEN s.state <> 'done' THEN 'business' END,
       CASE WHEN s.state <> 'done'
            THEN 'Order STORE/' || (n %% 5000) || ' is done: it takes no confirmation.' END,
       CASE WHEN s.state = 'exception' THEN s.received + interval '2 seconds' END,
       '{"event_id":"store-' || n || '","order_ref":"STORE/' || (n %% 5000)
           || '","produced_qty":5,"final":true,"operator":"bench"}',
       1, s.received, s.received + interval '1 second', s.received + interval '2 seconds', 1.0,
       1, 1, s.received, s.received + interval '2 seconds'
  FROM (SELECT n,
               (now() AT TIME ZONE 'UTC') - random() * interval '90 days' AS received,
               CASE WHEN n %% 200 = 0 THEN 'exception' WHEN n %% 500 = 1 THEN 'dead' ELSE 'done' END AS state
          FROM generate_series(%(first)s, %(last)s) AS n) AS s,
       integration_flow f JOIN integration_backend b ON b.id = f.backend_id
 WHERE f.id = %(flow_id)s
"""


def load_store(dsn, flow_id, count, progress=print):
    """Insert ``count`` historical messages of flow ``flow_id``; returns the seconds it took."""
    start = time.monotonic()
    with psycopg2.connect(dsn) as connection, connection.cursor() as cr:
        for first in range(1, count + 1, CHUNK):
            last = min(count, first + CHUNK - 1)
            cr.execute(INSERT, {"first": first, "last": last, "flow_id": flow_id})
            connection.commit()
            progress(f"    stored {last:,} of {count:,} messages")
    # A store that grew over 90 days has been vacuumed and analysed by autovacuum all along;
    # without this, autovacuum would take on the million new rows during the measurements.
    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True
        connection.cursor().execute("VACUUM (ANALYZE) integration_message")
    finally:
        connection.close()
    return time.monotonic() - start
