# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Interchanges from a partner's folder through the engine: orders made, acknowledged, or refused whole."""

import json

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.lib.transports import sftp
from odoo.addons.integration_base.tests.sftp_server import SftpServer

from .common import EdiCase, partner_order

QUIET = (
    "odoo.addons.integration_base.models.integration_message",
    "odoo.addons.integration_base.models.integration_fetcher",
)


@tagged("post_install", "-at_install")
class TestX12Orders(EdiCase):
    def test_a_purchase_order_becomes_a_confirmed_sale_order_acknowledged_and_answered(self):
        self._receive(self._partner_interchange(partner_order()))
        interchange = self._messages("edi.interchange")
        self.assertEqual(interchange.state, "done")
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1001")])
        self.assertEqual(order.state, "sale")
        self.assertEqual((order.partner_id, order.partner_shipping_id), (self.acme, self.store))
        self.assertEqual(order.edi_backend_id, self.edi)
        self.assertEqual(
            [(line.product_id, line.product_uom_qty, line.edi_line_number) for line in order.order_line],
            [(self.gearbox, 12, "1"), (self.flange, 5, "2"), (self.bolt, 2, "3")],
            "matched by the partner's code (mapping), our reference and the GTIN",
        )
        received = self.Register.search([("backend_id", "=", self.edi.id), ("direction", "=", "received")])
        self.assertEqual((received.state, received.document, received.test), ("accepted", "order", True))
        written = self._written()
        kinds = sorted(self._documents(i)[0]["document"] for i in written.values())
        self.assertEqual(kinds, ["acknowledgement", "order_response"])
        ack = next(i for i in written.values() if self._documents(i)[0]["document"] == "acknowledgement")
        self.assertEqual(ack["receiver"]["id"], "5400110000009")
        self.assertTrue(ack["test"])
        self.assertEqual(ack["groups"][0]["transactions"][0]["type"], "997")
        group = self._documents(ack)[0]["groups"][0]
        self.assertEqual((group["status"], group["control_number"]), ("accepted", received.group_number))
        self.assertEqual(
            group["transactions"], [{"type": "850", "control_number": "0001", "status": "accepted"}]
        )
        response = next(i for i in written.values() if self._documents(i)[0]["document"] == "order_response")
        self.assertEqual(response["groups"][0]["transactions"][0]["type"], "855")
        document = self._documents(response)[0]
        self.assertEqual(
            (document["order_number"], document["number"], document["status"]),
            ("PO-1001", order.name, "accepted"),
        )
        self.assertEqual([line["line"] for line in document["lines"]], ["1", "2", "3"])
        self.assertEqual(document["lines"][0]["buyer_item"], "ACME-GB-1")
        sent = self.Register.search(
            [("backend_id", "=", self.edi.id), ("direction", "=", "sent")], order="id"
        )
        self.assertEqual(sent.mapped("document"), ["acknowledgement", "order_response"])
        self.assertEqual(sent.mapped("state"), ["not_expected", "awaiting"])
        self.assertEqual(sent[1].res_id, order.id)
        numbers = [int(line.control_number) for line in sent]
        self.assertEqual(numbers[1], numbers[0] + 1, "control numbers follow each other, none skipped")
        self.assertEqual(
            {response["control_number"], ack["control_number"]}, set(sent.mapped("control_number"))
        )

    def test_the_same_interchange_twice_makes_one_order(self):
        body = self._partner_interchange(partner_order(number="PO-1002"))
        self._receive(body, "first.edi")
        self._receive(body, "again.edi")
        self.assertEqual(len(self._messages("edi.interchange")), 1)
        self.assertEqual(self.env["sale.order"].search_count([("client_order_ref", "=", "PO-1002")]), 1)

    @mute_logger(*QUIET)
    def test_a_malformed_interchange_is_kept_whole_rejected_and_answered_negatively(self):
        good = partner_order(number="PO-1003")
        broken = partner_order(number="PO-1004")
        body = self._partner_interchange(good, broken)
        self.assertIn(b"SE*9*0002", body)
        body = body.replace(b"SE*9*0002", b"SE*7*0002")
        self._receive(body)
        interchanges = self._messages("edi.interchange")
        self.assertEqual(len(interchanges), 2, "two interchanges in one file, each its own message")
        rejected = interchanges.filtered(lambda m: m.state == "exception")
        self.assertEqual(len(rejected), 1)
        self.assertIn("rejected whole, nothing of it applied", rejected.error_message)
        self.assertIn("segment 24 (SE): the trailer counts 7 segments, there are 9", rejected.error_message)
        self.assertTrue(rejected.raw_attachment_id, "the file is kept as it came")
        self.assertEqual(self.env["sale.order"].search_count([("client_order_ref", "=", "PO-1004")]), 0)
        self.assertEqual(self.env["sale.order"].search_count([("client_order_ref", "=", "PO-1003")]), 1)
        line = self.Register.search(
            [("backend_id", "=", self.edi.id), ("direction", "=", "received"), ("state", "=", "rejected")]
        )
        self.assertIn("there are 9", line.problems)
        self._dispatch(self.edi)
        negative = [
            i
            for i in self._written().values()
            if self._documents(i)[0]["document"] == "acknowledgement"
            and self._documents(i)[0]["groups"][0]["status"] == "rejected"
        ]
        self.assertEqual(len(negative), 1)
        self.assertEqual(
            self._documents(negative[0])[0]["groups"][0]["transactions"],
            [{"type": "850", "control_number": "0002", "status": "rejected", "code": "4"}],
        )

    @mute_logger(*QUIET)
    def test_an_interchange_from_someone_else_is_refused_with_the_reason(self):
        body = self._partner_interchange(
            partner_order(number="PO-1005"), sender={"qualifier": "ZZ", "id": "INTRUDER"}
        )
        self._receive(body)
        interchange = self._messages("edi.interchange")
        self.assertEqual(interchange.state, "exception")
        self.assertIn(
            "the sender INTRUDER is not ACME Retail's identifier 5400110000009", interchange.error_message
        )
        self._dispatch(self.edi)
        (ack,) = self._written().values()
        self.assertEqual(
            ack["interchange_acknowledgements"],
            [
                {
                    "interchange_control_number": interchange.idempotency_key,
                    "interchange_status": "rejected",
                    "interchange_code": "006",
                }
            ],
            "a TA1 rejects the interchange: invalid sender",
        )
        self.assertEqual(self._documents(ack)[0]["groups"][0]["status"], "rejected")

    @mute_logger(*QUIET)
    def test_an_interchange_without_any_group_from_someone_else_gets_a_ta1_alone(self):
        body = (
            f"ISA*00*{'':10}*00*{'':10}*ZZ*{'INTRUDER':<15}*ZZ*{'OURPLANT':<15}*261201*0930*U*00401*000002001*0*T*>~\n"
            "IEA*0*000002001~\n"
        ).encode()
        self._receive(body, "empty.edi")
        self.assertEqual(self._messages("edi.interchange").state, "exception")
        self._dispatch(self.edi)
        (answer,) = self._written().values()
        self.assertEqual(answer["groups"], [])
        self.assertEqual(
            answer["interchange_acknowledgements"],
            [
                {
                    "interchange_control_number": "000002001",
                    "interchange_status": "rejected",
                    "interchange_code": "006",
                }
            ],
        )
        sent = self.Register.search([("backend_id", "=", self.edi.id), ("direction", "=", "sent")])
        self.assertEqual(sent.document, "acknowledgement")
        self.assertFalse(sent.group_number, "a TA1 alone takes no group number")

    @mute_logger(*QUIET)
    def test_an_unmatched_line_waits_for_its_mapping_then_the_order_goes_on(self):
        lines = [
            {"line": "1", "quantity": 3, "unit": "EA", "price": 40.0, "buyer_item": "ACME-GB-1"},
            {
                "line": "2",
                "quantity": 1,
                "unit": "EA",
                "buyer_item": "ACME-NEW-9",
                "description": "NEW WIDGET",
            },
        ]
        self._receive(self._partner_interchange(partner_order(number="PO-1006", lines=lines)))
        order_message = self._messages("edi.order")
        self.assertEqual(order_message.state, "exception")
        self.assertIn("line 2: partner's item ACME-NEW-9 (NEW WIDGET)", order_message.error_message)
        self.assertEqual(self.env["sale.order"].search_count([("client_order_ref", "=", "PO-1006")]), 0)
        self.Mapping.create(
            {"backend_id": self.edi.id, "external_code": "ACME-NEW-9", "record_ref": self.flange}
        )
        self._dispatch(self.edi)
        self.assertEqual(order_message.state, "done")
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1006")])
        self.assertEqual(order.order_line.product_id, self.gearbox | self.flange)

    def test_a_price_other_than_the_pricelist_is_kept_ours_and_answered_changed(self):
        lines = [{"line": "1", "quantity": 2, "unit": "EA", "price": 35.0, "buyer_item": "ACME-GB-1"}]
        self._receive(self._partner_interchange(partner_order(number="PO-1007", lines=lines)))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1007")])
        self.assertEqual((order.order_line.price_unit, order.order_line.edi_partner_price), (40.0, 35.0))
        self.assertIn(
            "differ from the pricelist",
            order.message_ids[:5].mapped("body")[0] + "".join(order.message_ids.mapped("body")),
        )
        response = next(
            i for i in self._written().values() if self._documents(i)[0]["document"] == "order_response"
        )
        document = self._documents(response)[0]
        self.assertEqual(
            (document["status"], document["lines"][0]["status"], document["lines"][0]["price"]),
            ("changed", "changed", 40),
        )

    def test_the_partners_997_settles_what_we_sent_and_a_rejection_tells_the_salesperson(self):
        self._receive(self._partner_interchange(partner_order(number="PO-1008")))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1008")])
        response = self.Register.search([("res_model", "=", "sale.order"), ("res_id", "=", order.id)])
        self.assertEqual(response.state, "awaiting")
        ack = {
            "document": "acknowledgement",
            "groups": [
                {
                    "functional_id": "PR",
                    "control_number": response.group_number,
                    "status": "rejected",
                    "included": 1,
                    "received": 1,
                    "accepted": 0,
                    "code": "5",
                    "transactions": [
                        {
                            "type": "855",
                            "control_number": response.transaction_numbers,
                            "status": "rejected",
                            "code": "5",
                        }
                    ],
                }
            ],
        }
        self._receive(self._partner_interchange(ack), "ack.edi")
        self.assertEqual(self._messages("edi.acknowledgement").state, "done")
        self.assertEqual(response.state, "rejected")
        activity = order.activity_ids.filtered(lambda a: "rejected" in (a.note or ""))
        self.assertEqual(len(activity), 1, "the salesperson's document says the partner refused it")
        self.assertEqual(activity.user_id, self.edi.owner_id)
        self.assertEqual(
            len(self._written()),
            2,
            "an acknowledgement is not acknowledged (only the 997 and 855 of the order)",
        )

    def test_a_997_rejecting_our_transaction_set_in_an_accepted_group_rejects_it(self):
        self._receive(self._partner_interchange(partner_order(number="PO-1010")))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1010")])
        response = self.Register.search([("res_model", "=", "sale.order"), ("res_id", "=", order.id)])
        ack = {
            "document": "acknowledgement",
            "groups": [
                {
                    "functional_id": "PR",
                    "control_number": response.group_number,
                    "status": "partially_accepted",
                    "included": 1,
                    "received": 1,
                    "accepted": 0,
                    "transactions": [
                        # echoed without its leading zeros, as some partners do
                        {
                            "type": "855",
                            "control_number": response.transaction_numbers.lstrip("0"),
                            "status": "rejected",
                            "code": "5",
                        }
                    ],
                }
            ],
        }
        self._receive(self._partner_interchange(ack), "ack.edi")
        self.assertEqual(response.state, "rejected")
        self.assertEqual(len(order.activity_ids), 1)

    def test_the_partners_ta1_rejecting_our_interchange_rejects_it_and_is_not_answered(self):
        self._receive(self._partner_interchange(partner_order(number="PO-1011")))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1011")])
        response = self.Register.search([("res_model", "=", "sale.order"), ("res_id", "=", order.id)])
        for path in (self.folder / "outbox").glob("*"):
            path.unlink()
        body = (
            f"ISA*00*{'':10}*00*{'':10}*14*{'5400110000009':<15}*ZZ*{'OURPLANT':<15}*261201*0930*U*00401*000002002*0*T*>~\n"
            f"TA1*{response.control_number}*261201*0930*R*022~\n"
            "IEA*0*000002002~\n"
        ).encode()
        self._receive(body, "ta1.edi")
        self.assertEqual(self._messages("edi.interchange")[-1].state, "done")
        self.assertEqual(response.state, "rejected")
        self.assertIn("code 022", response.problems)
        self.assertEqual(len(order.activity_ids), 1)
        self.assertFalse(self._written(), "a TA1 is not acknowledged")

    def test_an_acknowledgement_overdue_is_an_activity_on_the_document(self):
        self._receive(self._partner_interchange(partner_order(number="PO-1009")))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-1009")])
        response = self.Register.search([("res_model", "=", "sale.order"), ("res_id", "=", order.id)])
        response.ack_due = "2026-01-01 00:00:00"
        self.assertEqual(self.Register._cron_overdue_acknowledgements(), response)
        self.assertEqual(response.state, "overdue")
        self.assertIn("has not acknowledged", order.activity_ids.note)
        self.assertFalse(self.Register._cron_overdue_acknowledgements(), "told once")

    def test_control_numbers_are_taken_with_the_message_and_given_back_with_a_rollback(self):
        first = self.edi._edi_envelope()
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            self.edi._edi_envelope()
            raise ZeroDivisionError
        second = self.edi._edi_envelope(transactions=2)
        self.assertEqual(int(second["interchange"]), int(first["interchange"]) + 1)
        self.assertEqual(int(second["group"]), int(first["group"]) + 1)
        self.assertEqual(
            [int(n) for n in second["transactions"]],
            [int(first["transactions"][0]) + 1, int(first["transactions"][0]) + 2],
        )
        self.assertEqual(len(first["interchange"]), 9)


@tagged("post_install", "-at_install")
class TestEdifactOrders(EdiCase):
    """An EDIFACT partner exchanging over its SFTP server (a real one, in process), host key pinned."""

    standard = "edifact"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.enterClassContext(SftpServer(str(cls.folder), users={"acme": "sftp-secret"}))
        cls.env["integration.credential"].create(
            {"backend_id": cls.edi.id, "kind": "password", "secret": "sftp-secret"}
        )
        cls.edi.outbound_url = cls.server.url_for("acme", "/outbox")
        cls.interchanges.source_url = cls.server.url_for("acme", "/inbox")
        cls.edi.flow_ids.write({"transport_options": json.dumps({"host_key": cls.server.host_key_b64})})

    def setUp(self):
        super().setUp()
        self.addCleanup(sftp.close_connections)

    def test_an_orders_message_becomes_a_sale_order_answered_with_contrl_and_ordrsp(self):
        self._receive(self._partner_interchange(partner_order(number="PO-2001")))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-2001")])
        self.assertEqual(order.state, "sale")
        self.assertEqual(len(order.order_line), 3)
        written = list(self._written().values())
        types = sorted(i["groups"][0]["transactions"][0]["type"] for i in written)
        self.assertEqual(types, ["CONTRL", "ORDRSP"])
        control = next(i for i in written if i["groups"][0]["transactions"][0]["type"] == "CONTRL")
        ack = self._documents(control)[0]
        self.assertEqual(ack["interchange_status"], "accepted")
        self.assertEqual(
            ack["transactions"], [{"control_number": "0001", "type": "ORDERS", "status": "accepted"}]
        )


@tagged("post_install", "-at_install")
class TestX12Fulfilment(EdiCase):
    """The order delivered and invoiced: the despatch advice and the invoice reach the partner."""

    TYPES = {"despatch_advice": "856", "invoice": "810"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bolt.write({"is_storable": True, "tracking": "lot"})
        cls.gearbox.is_storable = True
        cls.lot = cls.env["stock.lot"].create({"name": "LOT-77", "product_id": cls.bolt.id})
        stock = cls.plant_a.lot_stock_id
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(cls.bolt, stock, 10, lot_id=cls.lot)
        Quant._update_available_quantity(cls.gearbox, stock, 20)
        Quant._update_available_quantity(cls.flange, stock, 20) if cls.flange.is_storable else None

    def test_delivery_and_invoice_of_the_order_are_sent_as_856_and_810(self):
        self._receive(self._partner_interchange(partner_order(number="PO-3001")))
        order = self.env["sale.order"].search([("client_order_ref", "=", "PO-3001")])
        picking = order.picking_ids
        self.assertEqual(len(picking), 1)
        picking.action_assign()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        bolts = picking.move_line_ids.filtered(lambda line: line.product_id == self.bolt)
        self.assertEqual(bolts.lot_id, self.lot)
        package = self.env["stock.package"].create({"name": "354001100000000019"})
        bolts.result_package_id = package
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self._dispatch(self.edi)
        advice = self._only_written("despatch_advice")
        self.assertEqual(advice["groups"][0]["transactions"][0]["type"], self.TYPES["despatch_advice"])
        document = self._documents(advice)[0]
        self.assertEqual((document["number"], document["order_number"]), (picking.name, "PO-3001"))
        packed, loose = document["packages"]
        self.assertEqual(packed["sscc"], "354001100000000019")
        self.assertEqual(
            packed["lines"],
            [
                {
                    "line": "3",
                    "gtin": "5400111864181",
                    "lot": "LOT-77",
                    "quantity": 2,
                    "unit": "EA",
                    "description": "Bolt",
                }
            ],
        )
        self.assertEqual(sorted(line["line"] for line in loose["lines"]), ["1", "2"])
        self.assertEqual(
            self.Register.search([("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)]).state,
            "awaiting",
        )
        invoice = order._create_invoices()
        invoice.action_post()
        self._dispatch(self.edi)
        sent = self._only_written("invoice")
        self.assertEqual(sent["groups"][0]["transactions"][0]["type"], self.TYPES["invoice"])
        document = self._documents(sent)[0]
        self.assertEqual((document["number"], document["order_number"]), (invoice.name, "PO-3001"))
        self.assertEqual(document["total"], round(invoice.amount_total, 2))
        self.assertEqual([line["line"] for line in document["lines"]], ["1", "2", "3"])
        self.assertEqual(sent["problems"], [])

    def test_certification_checklist_then_go_live(self):
        with self.assertRaisesRegex(UserError, "Still to do: .*Purchase Order"):
            self.edi.action_edi_go_live()
        self.test_delivery_and_invoice_of_the_order_are_sent_as_856_and_810()
        self.edi.invalidate_recordset(["edi_checklist", "edi_ready_to_go_live"])
        self.assertFalse(self.edi.edi_ready_to_go_live, "nothing we sent is acknowledged yet")
        self.assertIn("\u2610 Invoice (810 / INVOIC): sent and acknowledged", self.edi.edi_checklist)
        awaiting = self.Register.search([("backend_id", "=", self.edi.id), ("state", "=", "awaiting")])
        self.assertEqual(
            sorted(awaiting.mapped("document")), ["despatch_advice", "invoice", "order_response"]
        )
        self._receive(self._acknowledging(awaiting), "acks.edi")
        self.assertEqual(set(awaiting.mapped("state")), {"accepted"})
        self.edi.invalidate_recordset(["edi_checklist", "edi_ready_to_go_live"])
        self.assertTrue(self.edi.edi_ready_to_go_live, self.edi.edi_checklist)
        self.edi.action_edi_go_live()
        self.assertFalse(self.edi.edi_test_mode)
        for path in (self.folder / "outbox").glob("*"):
            path.unlink()
        with mute_logger(*QUIET):
            self._receive(self._partner_interchange(partner_order(number="PO-3002")), "late-test.edi")
        refused = self._messages("edi.interchange")[-1]
        self.assertIn("a test interchange was sent to a partner in production", refused.error_message)
        (negative,) = self._written().values()
        self.assertFalse(negative["test"], "our negative acknowledgement is a production interchange")

    def _acknowledging(self, lines):
        """The partner's 997s accepting what we sent: one interchange, one 997 per functional group."""
        acknowledgement = {
            "document": "acknowledgement",
            "groups": [
                {
                    "functional_id": "PR",
                    "control_number": line.group_number,
                    "status": "accepted",
                    "included": 1,
                    "received": 1,
                    "accepted": 1,
                    "transactions": [
                        {"type": "855", "control_number": line.transaction_numbers, "status": "accepted"}
                    ],
                }
                for line in lines
            ],
        }
        numbers = [f"{index:04d}" for index in range(1, len(lines) + 1)]
        return self._partner_interchange(acknowledgement, transactions=numbers)

    def _only_written(self, kind):
        found = [i for i in self._written().values() if self._documents(i)[0]["document"] == kind]
        self.assertEqual(len(found), 1, f"one {kind} written")
        return found[0]


@tagged("post_install", "-at_install")
class TestEdifactFulfilment(TestX12Fulfilment):
    """The same with an EDIFACT partner: DESADV and INVOIC out, its CONTRLs settling what we sent."""

    standard = "edifact"
    TYPES = {"despatch_advice": "DESADV", "invoice": "INVOIC"}
    allow_inherited_tests_method = True  # Odoo's loader runs only a class's own tests otherwise

    def _acknowledging(self, lines):
        """One CONTRL per interchange we sent, accepting it (EDIFACT acknowledges interchanges)."""
        return self._partner_interchange(
            *[
                {
                    "document": "acknowledgement",
                    "interchange_control_number": line.control_number,
                    "interchange_status": "accepted",
                    "interchange_sender": "OURPLANT",
                    "interchange_receiver": "5400110000009",
                }
                for line in lines
            ]
        )
