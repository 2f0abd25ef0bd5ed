# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A partner whose deliveries fail shows it, and its chatter is told once per failed message."""

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.tests.common import RecordStateMixin
from odoo.addons.integration_base.tests.partner_server import Answer, PartnerServer

from .test_delivery import MESSAGE_LOGGER, DeliveryCase


@tagged("post_install", "-at_install")
class TestRecordState(RecordStateMixin, DeliveryCase):
    @mute_logger(MESSAGE_LOGGER)
    def test_refused_twice_is_noted_once(self):
        partner, message = self._create_partner("Acme", "R1")
        self.assertIntegrationState(partner, 1, 0)
        refusal = Answer(422, '{"error": "unknown customer group"}')
        with PartnerServer([refusal, refusal]) as server:
            self.backend.outbound_url = server.url
            self._drain()
            self.assertEqual(message.state, "exception")
            self.assertIntegrationState(partner, 1, 1, reason="unknown customer group")
            [note] = self._integration_notes(partner)
            self.assertIn("refused the message", note.body)
            message.action_retry()
            self._drain()
        self.assertEqual((message.state, len(server.requests)), ("exception", 2), "refused again")
        self.assertEqual(len(self._integration_notes(partner)), 1, "not told twice")

    @mute_logger(MESSAGE_LOGGER)
    def test_technical_retries_note_nothing_until_dead(self):
        self.out_flow.retry_max = 2
        partner, message = self._create_partner("Acme", "R2")
        with PartnerServer(default=Answer(503, '{"error": "maintenance"}')) as server:
            self.backend.outbound_url = server.url
            self._drain()
            self.assertEqual(message.state, "failed")
            self.assertIntegrationState(partner, 1, 1, reason="is tried again by itself")
            self.assertFalse(self._integration_notes(partner), "a retry may still succeed")
            with freeze_time(message.next_retry_at):
                self._drain()
        self.assertEqual(message.state, "dead")
        self.assertIntegrationState(partner, 1, 1, reason="given up after 2 attempts")
        [note] = self._integration_notes(partner)
        self.assertIn("HTTP 503", note.body)

    @mute_logger(MESSAGE_LOGGER)
    def test_message_held_back_by_a_refused_one_needs_a_look_too(self):
        partner, first = self._create_partner("Acme", "R3")
        second = self.env["integration.event"]._publish("test.partner.created", partner)
        with PartnerServer([Answer(422, '{"error": "unknown customer group"}')]) as server:
            self.backend.outbound_url = server.url
            self._drain()
        self.assertEqual((first.state, second.state), ("exception", "queued"))
        self.assertIntegrationState(partner, 2, 2, reason="2 integration messages")
        self.assertIn("unknown customer group", partner.integration_attention_reason, "the most urgent")
        self.assertIn(
            "waits behind an earlier message",
            self.env["integration.record.mixin"]._integration_sentence(second),
        )
        attention = self._messages_of_action(partner.action_open_integration_attention())
        self.assertEqual(attention, first | second)
        self.assertEqual(len(self._integration_notes(partner)), 1, "only the refused one is told")

    def test_applied_inbound_message_counts_on_its_partner(self):
        message, _created = self._ingest({"ref": "R4", "name": "Inbound"})
        with PartnerServer() as server:
            self.backend.outbound_url = server.url
            self._drain()
        partner = self._partners("R4")
        self.assertEqual(message.state, "done")
        self.assertFalse(self._outbound(partner), "the partner the backend sent is not announced back to it")
        self.assertIntegrationState(partner, 1, 0)
        self.assertEqual(self._messages_of_action(partner.action_open_integration_messages()), message)
