# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The prefork server outlives a restart of PostgreSQL.

Before it starts a worker in place of one that ended, Odoo's prefork master
opens a cursor on the registries it preloaded (``-d``), to check their
signaling. While PostgreSQL is down that raises, and the master, which
treats any error of its loop as fatal, stops the whole server: its workers,
the cron and queue_job's runner. A plant's messages then wait for someone
to start Odoo again (Debian's ``odoo.service`` does not restart it).

The cron worker is the first to end in such an outage (it exits on a lost
connection), so the first restart of PostgreSQL under load used to stop the
server. With this patch (installed by ``integration_base`` as a server-wide
module) the master skips starting workers while the database does not
answer, says so once, and starts them on the first beat after it answers.
"""

import functools
import logging

import psycopg2

from odoo import sql_db
from odoo.service import server

_logger = logging.getLogger(__name__)


def survive_database_outage(process_spawn):
    """``process_spawn`` that waits for the database instead of stopping the server."""

    @functools.wraps(process_spawn)
    def spawn_when_the_database_answers(prefork_server):
        try:
            process_spawn(prefork_server)
        except psycopg2.OperationalError as error:
            sql_db.close_all()  # the broken connections of the check go, the next beat opens new ones
            if not getattr(prefork_server, "_integration_waiting_for_database", False):
                _logger.warning("the database does not answer: workers start again once it does (%s)", error)
            prefork_server._integration_waiting_for_database = True
        else:
            if getattr(prefork_server, "_integration_waiting_for_database", False):
                _logger.info("the database answers again: workers started")
            prefork_server._integration_waiting_for_database = False

    spawn_when_the_database_answers.integration_survives_database_outage = True
    return spawn_when_the_database_answers


def install():
    """Wrap the prefork master's ``process_spawn`` (queue_job's, when it is loaded first), once."""
    current = server.PreforkServer.process_spawn
    if not getattr(current, "integration_survives_database_outage", False):
        server.PreforkServer.process_spawn = survive_database_outage(current)
