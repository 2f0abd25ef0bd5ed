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


# What the warning above a record's form reads.
INTEGRATION_STATE_FIELDS = ("integration_attention_count", "integration_attention_reason")


class RecordStateMixin:
    """What a business record shows of its integration state, and to whom."""

    def _integration_notes(self, record):
        record.invalidate_recordset(["message_ids"])
        return record.message_ids.filtered(lambda m: "Integration:" in str(m.body))

    def assertIntegrationState(self, record, count, attention, reason=None):
        record.invalidate_recordset()
        self.assertEqual(
            (record.integration_message_count, record.integration_attention_count), (count, attention)
        )
        for words in [reason] if reason else []:
            self.assertIn(words, record.integration_attention_reason)

    def assertFormOpens(self, record, user, view_xmlid):
        """``user`` opens the form of ``record``: it loads with its warning, no AccessError.

        The smart buttons to the messages are there for integration users only.
        Returns what the form reads of the integration state.
        """
        view = self.env.ref(view_xmlid)
        form = record.with_user(user).get_views([(view.id, "form")])
        arch = form["views"]["form"]["arch"]
        self.assertIn('name="integration_attention_reason"', arch)
        self.assertIn("integration_attention_count", form["models"][record._name]["fields"])
        reads_messages = user.has_group("integration_base.group_integration_user")
        self.assertEqual('name="action_open_integration_messages"' in arch, reads_messages)
        self.assertEqual('name="action_open_integration_attention"' in arch, reads_messages)
        [values] = record.with_user(user).web_read(
            {name: {} for name in ("integration_message_count", *INTEGRATION_STATE_FIELDS)}
        )
        return values

    def _messages_of_action(self, action):
        """The messages the list opened by ``action`` (a smart button's) shows."""
        self.assertEqual(action["res_model"], "integration.message")
        return self.env["integration.message"].search(action["domain"])


class RecordStateCase(RecordStateMixin, IntegrationCase):
    """Messages about business records, parked by the engine's own path.

    The contract ``test.record`` is outbound and has no processor, so an event
    about any record stores a message that cannot be built: it waits in
    exception, linked to its record, and fails the same way when retried.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.record_backend = cls._create_backend("records", plant=cls.plant_a)
        cls.record_backend.action_activate()
        cls.record_flow = cls.env["integration.flow"].create(
            {
                "name": "Record",
                "code": "test.record",
                "backend_id": cls.record_backend.id,
                "direction": "outbound",
                "owner_id": cls.integration_manager.id,
            }
        )
        cls.record_flow.action_activate()

    def _park(self, record):
        """An event about ``record`` whose message cannot be built: it waits in exception."""
        return self.env["integration.message"]._ingest_event(self.record_flow, "test.record.changed", record)
