# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Fixtures shared by the integration suite's tests (and the connectors')."""

from urllib.parse import urlsplit

from odoo.tests import TransactionCase, new_test_user
from odoo.tests.common import HOST, _super_send

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.integration_dispatcher import WAITING_JOB_STATES


class IntegrationCase(TransactionCase):
    """A company with two plants and one user per integration group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.plant_a = cls._create_plant("Plant A", "PLA")
        cls.plant_b = cls._create_plant("Plant B", "PLB")
        cls.integration_user = new_test_user(
            cls.env, login="int_user", groups="integration_base.group_integration_user"
        )
        cls.integration_manager = new_test_user(
            cls.env, login="int_manager", groups="integration_base.group_integration_manager"
        )

    def setUp(self):
        super().setUp()
        # The engine works on cursors of its own (one transaction per message): in tests they
        # wrap the test's cursor, so that they see and keep what the test does.
        if not type(self)._registry_patched:
            self.registry_enter_test_mode()

    def _trap_jobs(self):
        """queue_job's ``trap_jobs``, with no job left waiting in the database.

        A job that waits there answers any later schedule (the dispatcher looks
        for it before building a new one), so a test that traps jobs to see
        what a step schedules starts without any.
        """
        self.env["queue.job"].search([("state", "in", WAITING_JOB_STATES)]).unlink()
        return trap_jobs()

    def _dispatch(self, backend):
        """Run the dispatcher's drain job body for ``backend``, as the job runner would."""
        result = self.env["integration.dispatcher"]._drain(backend.id)
        self.env.invalidate_all()
        return result

    def _flush_tracking(self):
        """Write the chatter tracking that Odoo writes just before a commit.

        Odoo tracks changes of records that existed at the start of the
        transaction only, so tests call this after creating and after writing.
        """
        self.env.flush_all()
        self.env.cr.precommit.run()

    @classmethod
    def _create_plant(cls, name, code):
        return cls.env["stock.warehouse"].create({"name": name, "code": code})

    @classmethod
    def _create_backend(cls, code, system_type="generic", plant=None, **values):
        return cls.env["integration.backend"].create(
            {
                "name": values.pop("name", code),
                "code": code,
                "system_type": system_type,
                "warehouse_id": plant.id if plant else False,
                **values,
            }
        )


class LocalPartnerMixin:
    """Lets deliveries reach a local :class:`~.partner_server.PartnerServer` as they would in production.

    Odoo's test harness lets requests reach localhost only, and stretches
    short timeouts (single numbers only) to 10 s; the partner server is local
    and the timeouts under test are the backend's own (connect, read) pair.
    """

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        if urlsplit(request.url).hostname == HOST:
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)
