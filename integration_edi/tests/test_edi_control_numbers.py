# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Control numbers never repeat and never skip, however many transactions ask at once.

The numbers are only shared between transactions that commit, so these tests
work on connections of their own (and delete what they made after).
"""

from contextlib import closing

from psycopg2.errors import LockNotAvailable

from odoo import SUPERUSER_ID, api
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestControlNumbersAcrossTransactions(TransactionCase):
    def setUp(self):
        super().setUp()
        with closing(db_connect(self.env.cr.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": "Concurrent Retail", "is_company": True})
            backend = env["integration.backend"].create(
                {
                    "name": "concurrent",
                    "code": "edi-concurrent",
                    "system_type": "edi",
                    "partner_id": partner.id,
                    "contract_family": "x12",
                }
            )
            self.backend_id, self.partner_id = backend.id, partner.id
            self.sequence_ids = (
                backend.edi_interchange_sequence_id
                | backend.edi_group_sequence_id
                | backend.edi_transaction_sequence_id
            ).ids
            cr.commit()  # pylint: disable=invalid-commit  # a connection of the test's own
        self.addCleanup(self._delete)

    def _delete(self):
        with closing(db_connect(self.env.cr.dbname).cursor()) as cr:
            cr.execute("DELETE FROM integration_backend WHERE id = %s", (self.backend_id,))
            cr.execute("DELETE FROM ir_sequence WHERE id = ANY(%s)", (self.sequence_ids,))
            cr.execute("DELETE FROM res_partner WHERE id = %s", (self.partner_id,))
            cr.commit()  # pylint: disable=invalid-commit  # a connection of the test's own

    def _envelope_on(self, cr):
        return (
            api.Environment(cr, SUPERUSER_ID, {})["integration.backend"]
            .browse(self.backend_id)
            ._edi_envelope()
        )

    @mute_logger("odoo.sql_db")
    def test_a_second_transaction_waits_for_the_first_and_a_rolled_back_one_gives_its_number_back(self):
        with (
            closing(db_connect(self.env.cr.dbname).cursor()) as first,
            closing(db_connect(self.env.cr.dbname).cursor()) as second,
        ):
            taken = self._envelope_on(first)
            with self.assertRaises(LockNotAvailable, msg="the second asks while the first holds the number"):
                self._envelope_on(second)
            second.rollback()  # Odoo runs such a request again; so does the dispatcher with a message
            first.commit()  # pylint: disable=invalid-commit  # a connection of the test's own
            after = self._envelope_on(second)
            second.rollback()  # this one fails later: its numbers come back
            again = self._envelope_on(second)
            second.commit()  # pylint: disable=invalid-commit  # a connection of the test's own
        numbers = [int(envelope["interchange"]) for envelope in (taken, after, again)]
        self.assertEqual(numbers, [1, 2, 2], "never repeated, never skipped")
        self.assertEqual([int(e["group"]) for e in (taken, again)], [1, 2])
        self.assertEqual([e["transactions"] for e in (taken, again)], [["0001"], ["0002"]])
