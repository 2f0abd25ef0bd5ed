# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ISA-95 / B2MML contracts: the translation on its own, then an ISA-95 MES through the engine."""

import json
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from odoo.tests import BaseCase, HttpCase, tagged
from odoo.tools import file_open, mute_logger

from odoo.addons.integration_base.lib.json_contract import validation_errors
from odoo.addons.integration_base.lib.webhook_signature import generate_secret
from odoo.addons.integration_base.tests.partner_server import PartnerServer

from ..lib import b2mml
from .common import MesCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_dispatcher"
CREATED_AT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def contract_schema(code):
    with file_open(f"integration_mes/data/contracts/{code}.v1.json") as schema:
        return schema.read()


def quantity(text, unit=None):
    return {"QuantityString": text, **({"UnitOfMeasure": unit} if unit else {})}


def performance(
    order_ref, bodid="BOD-1", state="Running", materials=(), verb="Process", action=None, **extra
):
    """A ProductionPerformance document with one response of one segment holding ``materials``."""
    segment = {
        "ID": "10",
        "ActualStartTime": "2026-03-02T06:00:00+00:00",
        "ActualEndTime": "2026-03-02T07:30:00+00:00",
        "PersonnelActual": [{"PersonID": ["ana"]}],
        "EquipmentActual": [{"EquipmentID": ["WC-ASM"]}],
        "MaterialActual": list(materials),
    }
    verb_element = {"ActionCriteria": [{"ActionExpression": {"actionCode": action}}]} if action else {}
    return {
        "releaseID": "V0701",
        "ApplicationArea": {
            "Sender": {"LogicalID": "mes.plant-a", **extra.pop("sender", {})},
            "CreationDateTime": "2026-03-02T07:31:00+00:00",
            "BODID": bodid,
        },
        "DataArea": {
            verb: verb_element,
            "ProductionPerformance": [
                {
                    "ID": "PERF-1",
                    "ProductionResponse": [
                        {
                            "ID": extra.pop("response_id", "RESP-1"),
                            "ProductionRequestID": order_ref,
                            "ResponseState": state,
                            "SegmentResponse": [segment],
                        }
                    ],
                }
            ],
        },
    }


def produced(qty, lots=(), unit=None):
    return {"MaterialUse": "Produced", "Quantity": [quantity(qty, unit)], "MaterialLotID": list(lots)}


def consumed(product, qty, unit=None):
    return {"MaterialUse": "Consumed", "MaterialDefinitionID": [product], "Quantity": [quantity(qty, unit)]}


def scrapped(qty, reason):
    return {
        "MaterialUse": "Produced",
        "Quantity": [quantity(qty)],
        "MaterialActualProperty": [{"ID": "ScrapReason", "Value": [{"ValueString": reason}]}],
    }


ORDER = {
    "action": "create",
    "order_ref": "PLA/MO/00001",
    "product": "GBX-100",
    "quantity": 10.0,
    "unit": "Units",
    "planned_start": "2026-03-02T06:00:00+00:00",
    "planned_end": "2026-03-02T11:00:00+00:00",
    "tracking": "lot",
    "components": [
        {"product": "SH-1", "quantity": 20.0, "unit": "Units", "tracking": "none"},
        {"product": "HS-1", "quantity": 10.0, "unit": "Units", "tracking": "none"},
    ],
    "operations": [
        {"sequence": 1, "name": "Assemble", "work_center": "WC-ASM", "expected_minutes": 300.0},
        {"sequence": 2, "name": "Test", "work_center": "WC-TST", "expected_minutes": 12.5},
    ],
}


@tagged("post_install", "-at_install")
class TestB2mmlTranslation(BaseCase):
    """The mapping rules of ``lib/b2mml.py`` on plain dictionaries."""

    def assertFitsContract(self, document, code):
        self.assertEqual(validation_errors(document, contract_schema(code)), [])

    def test_numbers_and_durations_are_written_as_b2mml_text(self):
        self.assertEqual(
            [b2mml.format_number(value) for value in (10.0, 2.5, 0.0, 1e-7, 120)],
            ["10", "2.5", "0", "0.0000001", "120"],
        )
        self.assertEqual(
            [b2mml.duration(minutes) for minutes in (300, 12.5, 0, 61)],
            ["PT5H", "PT12M30S", "PT0S", "PT1H1M"],
        )

    def test_schedule_has_one_request_segments_per_work_order_and_materials(self):
        document = b2mml.production_schedule(ORDER, "odoo.db", "plant-a-isa", "BOD-S1", CREATED_AT)
        self.assertFitsContract(document, "isa95.process_production_schedule")
        area = document["ApplicationArea"]
        self.assertEqual(
            (area["BODID"], area["CreationDateTime"], area["Sender"]["ConfirmationCode"], area["Receiver"]),
            ("BOD-S1", "2026-03-02T06:00:00+00:00", "OnError", [{"LogicalID": "plant-a-isa"}]),
        )
        self.assertEqual(
            document["DataArea"]["Process"]["ActionCriteria"][0]["ActionExpression"]["actionCode"], "Add"
        )
        [schedule] = document["DataArea"]["ProductionSchedule"]
        [request] = schedule["ProductionRequest"]
        self.assertEqual(
            (request["ID"], request["RequestState"], request["StartTime"], request["EndTime"]),
            ("PLA/MO/00001", "Released", ORDER["planned_start"], ORDER["planned_end"]),
        )
        first, second = request["SegmentRequirement"]
        self.assertEqual(
            (first["ID"], first["ProcessSegmentID"], first["EquipmentRequirement"], first["Duration"]),
            ("1", "Assemble", [{"EquipmentID": ["WC-ASM"]}], "PT5H"),
        )
        self.assertEqual(
            [
                (m["MaterialDefinitionID"], m["MaterialUse"], m["Quantity"])
                for m in first["MaterialRequirement"]
            ],
            [
                (
                    ["SH-1"],
                    "Consumed",
                    [{"QuantityString": "20", "DataType": "decimal", "UnitOfMeasure": "Units"}],
                ),
                (
                    ["HS-1"],
                    "Consumed",
                    [{"QuantityString": "10", "DataType": "decimal", "UnitOfMeasure": "Units"}],
                ),
            ],
        )
        [made] = second["MaterialRequirement"]
        self.assertEqual((made["MaterialDefinitionID"], made["MaterialUse"]), (["GBX-100"], "Produced"))
        self.assertEqual(
            made["MaterialRequirementProperty"], [{"ID": "Tracking", "Value": [{"ValueString": "lot"}]}]
        )

    def test_cancelled_order_without_work_orders_is_one_cancelled_segment(self):
        order = {**ORDER, "action": "cancel", "operations": [], "planned_end": None}
        document = b2mml.production_schedule(order, "odoo.db", "plant-a-isa", "BOD-S2", CREATED_AT)
        self.assertFitsContract(document, "isa95.process_production_schedule")
        [request] = document["DataArea"]["ProductionSchedule"][0]["ProductionRequest"]
        self.assertEqual((request["RequestState"], "EndTime" in request), ("Cancelled", False))
        [segment] = request["SegmentRequirement"]
        self.assertEqual(segment["ID"], "PLA/MO/00001")
        self.assertEqual(
            [m["MaterialUse"] for m in segment["MaterialRequirement"]], ["Consumed", "Consumed", "Produced"]
        )

    def test_performance_becomes_simple_confirmations(self):
        document = performance(
            "PLA/MO/00001",
            state="Completed",
            materials=[
                produced("9", lots=["LOT-1"], unit="PCE"),
                produced("1", lots=["LOT-1"], unit="PCE"),
                consumed("SH-1", "21.5", unit="KGM"),
                scrapped("1", "SCR-2"),
            ],
        )
        self.assertFitsContract(document, "isa95.process_production_performance")
        self.assertEqual(
            b2mml.production_confirmations(document),
            [
                {
                    "event_id": "BOD-1/RESP-1",
                    "order_ref": "PLA/MO/00001",
                    "final": True,
                    "produced_qty": 10.0,
                    "unit": "PCE",
                    "consumption": [{"product": "SH-1", "quantity": 21.5, "unit": "KGM"}],
                    "scrap": [{"quantity": 1.0, "reason": "SCR-2"}],
                    "lots": ["LOT-1"],
                    "operator": "ana",
                    "started_at": "2026-03-02T06:00:00+00:00",
                    "finished_at": "2026-03-02T07:30:00+00:00",
                }
            ],
        )
        running = b2mml.production_confirmations(performance("PLA/MO/00001", materials=[produced("2")]))
        self.assertEqual(
            (running[0]["final"], running[0]["produced_qty"], "unit" in running[0]), (False, 2.0, False)
        )

    def test_sync_adds_like_process_and_restates_totals_on_change(self):
        added = performance("MO-1", verb="Sync", action="Add", materials=[produced("3")])
        self.assertFitsContract(added, "isa95.sync_production_performance")
        self.assertEqual(b2mml.production_confirmations(added)[0]["produced_qty"], 3.0)
        changed = performance("MO-1", verb="Sync", action="Change", materials=[produced("7")])
        confirmation = b2mml.production_confirmations(changed)[0]
        self.assertEqual((confirmation["cumulative_qty"], "produced_qty" in confirmation), (7.0, False))
        restated_use = performance("MO-1", verb="Sync", action="Replace", materials=[consumed("SH-1", "2")])
        with self.assertRaisesRegex(b2mml.B2mmlError, "restates consumed or scrapped material"):
            b2mml.production_confirmations(restated_use)
        with self.assertRaisesRegex(b2mml.B2mmlError, "deletes a production response"):
            b2mml.production_confirmations(performance("MO-1", verb="Sync", action="Delete"))

    def test_what_odoo_cannot_apply_is_refused_in_words(self):
        several = performance("MO-1")
        other = json.loads(
            json.dumps(several["DataArea"]["ProductionPerformance"][0]["ProductionResponse"][0])
        )
        other.update({"ID": "RESP-2", "ProductionRequestID": "MO-2"})
        several["DataArea"]["ProductionPerformance"][0]["ProductionResponse"].append(other)
        with self.assertRaisesRegex(b2mml.B2mmlError, "reports on 2 orders"):
            b2mml.production_confirmations(several)
        with self.assertRaisesRegex(b2mml.B2mmlError, "MaterialUse 'Carrier' is not supported"):
            b2mml.production_confirmations(
                performance("MO-1", materials=[{"MaterialUse": "Carrier", "Quantity": [quantity("1")]}])
            )
        with self.assertRaisesRegex(b2mml.B2mmlError, "was aborted at the MES"):
            b2mml.production_confirmations(performance("MO-1", state="Aborted"))
        with self.assertRaisesRegex(b2mml.B2mmlError, "several units"):
            b2mml.production_confirmations(
                performance("MO-1", materials=[produced("1", unit="PCE"), produced("1", unit="KGM")])
            )
        with self.assertRaisesRegex(b2mml.B2mmlError, "exactly one MaterialDefinitionID"):
            b2mml.production_confirmations(
                performance("MO-1", materials=[{"MaterialUse": "Consumed", "Quantity": [quantity("1")]}])
            )

    def test_contract_refuses_a_document_off_its_shape(self):
        document = performance("MO-1", materials=[produced("1,5")])
        document["DataArea"]["ProductionPerformance"][0]["Unknown"] = True
        del document["ApplicationArea"]["BODID"]
        pointers = [
            pointer
            for pointer, _reason in validation_errors(
                document, contract_schema("isa95.process_production_performance")
            )
        ]
        self.assertIn("/ApplicationArea", pointers)
        self.assertIn("/DataArea/ProductionPerformance/0", pointers)
        self.assertTrue(any(p.endswith("/Quantity/0/QuantityString") for p in pointers), pointers)

    def test_acknowledges_name_the_original_document(self):
        self.assertEqual(b2mml.confirmation_code(performance("MO-1")), "Never")
        always = performance("MO-1", sender={"ConfirmationCode": "Always"})
        on_error = performance("MO-1", sender={"ConfirmationCode": "OnError"})
        self.assertEqual(
            [b2mml.wants_acknowledge(d, failed) for d in (always, on_error) for failed in (False, True)],
            [True, True, False, True],
        )
        answer = b2mml.acknowledge_performance(
            on_error, False, "Order MO-1 is cancelled", "odoo.db", "ACK-1", CREATED_AT
        )
        self.assertFitsContract(answer, "isa95.acknowledge_production_performance")
        acknowledge = answer["DataArea"]["Acknowledge"]
        self.assertEqual(acknowledge["OriginalApplicationArea"]["BODID"], "BOD-1")
        self.assertEqual(
            acknowledge["ResponseCriteria"],
            [
                {
                    "ResponseExpression": {"actionCode": "Rejected"},
                    "ChangeStatus": {"Code": "Rejected", "Reason": "Order MO-1 is cancelled"},
                }
            ],
        )
        self.assertEqual(answer["ApplicationArea"]["Receiver"], [{"LogicalID": "mes.plant-a"}])
        self.assertEqual(
            answer["DataArea"]["ProductionPerformance"],
            [{"ID": "PERF-1", "ProductionResponse": [{"ID": "RESP-1", "ProductionRequestID": "MO-1"}]}],
        )

    def test_schedule_acknowledgement_reads_outcome_reason_and_orders(self):
        document = schedule_acknowledge("BOD-S1", "Rejected", "MO-1", reason="Unknown routing")
        self.assertFitsContract(document, "isa95.acknowledge_production_schedule")
        self.assertEqual(
            b2mml.schedule_acknowledgement(document),
            {
                "original_bodid": "BOD-S1",
                "outcome": "Rejected",
                "reason": "Unknown routing",
                "order_refs": ["MO-1"],
            },
        )
        accepted = b2mml.schedule_acknowledgement(schedule_acknowledge("BOD-S1", "Accepted", None))
        self.assertEqual(
            (accepted["outcome"], accepted["order_refs"], accepted["reason"]), ("Accepted", [], "")
        )


def schedule_acknowledge(original_bodid, code, order_ref, reason=None, bodid="ACK-S1"):
    criteria = {"ResponseExpression": {"actionCode": code}}
    if reason:
        criteria["ChangeStatus"] = {"Code": code, "Reason": reason}
    data = {
        "Acknowledge": {
            "OriginalApplicationArea": {
                "CreationDateTime": "2026-03-02T06:00:00+00:00",
                "BODID": original_bodid,
            },
            "ResponseCriteria": [criteria],
        }
    }
    if order_ref:
        data["ProductionSchedule"] = [{"ID": order_ref, "ProductionRequest": [{"ID": order_ref}]}]
    return {
        "releaseID": "V0701",
        "ApplicationArea": {"CreationDateTime": "2026-03-02T06:01:00+00:00", "BODID": bodid},
        "DataArea": data,
    }


class IsaBackendMixin:
    """A second MES at plant A that speaks ISA-95: its contracts come from its family's templates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.isa = cls._create_backend("plant-a-isa", system_type="mes", plant=cls.plant_a)
        cls.isa.contract_family = "isa95"
        cls.env["integration.credential"].create(
            {"backend_id": cls.isa.id, "kind": "hmac", "secret": generate_secret()}
        )
        cls.isa.action_activate()
        cls.isa.action_add_contracts()
        cls.isa.flow_ids.write({"retry_backoff_seconds": 0})
        cls.isa.flow_ids.action_activate()
        for mapping in cls.Mapping.search([("backend_id", "=", cls.mes.id)]):
            mapping.copy({"backend_id": cls.isa.id})

    def _perform(self, document, flow_code="isa95.process_production_performance"):
        message, _created = self.Message._ingest(self.isa, flow_code, document)
        self._dispatch(self.isa)
        return message

    def _acknowledges(self, message):
        return self.Message.search(
            [("parent_id", "=", message.id), ("flow_code", "=", "isa95.acknowledge_production_performance")]
        )

    def _schedules(self, production):
        return self._outbound(production).filtered(
            lambda m: m.flow_code == "isa95.process_production_schedule"
        )


@tagged("post_install", "-at_install")
class TestB2mmlEngine(IsaBackendMixin, MesCase):
    def test_add_contracts_follows_the_backends_family(self):
        self.assertEqual(
            sorted(self.isa.flow_ids.mapped("code")),
            [
                "isa95.acknowledge_production_performance",
                "isa95.acknowledge_production_schedule",
                "isa95.process_production_performance",
                "isa95.process_production_schedule",
                "isa95.sync_production_performance",
            ],
        )
        self.assertFalse(self.mes.flow_ids.filtered(lambda f: f.code.startswith("isa95.")), "standard family")
        self.assertEqual(self.mes.contract_family, "standard")

    def test_final_performance_marks_the_order_done(self):
        production = self._order(quantity=10)
        message = self._perform(
            performance(
                production.name,
                state="Completed",
                materials=[produced("10", lots=["LOT-1"]), consumed("SH-1", "21"), scrapped("1", "SCR-2")],
            )
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.ordering_key, production.name)
        self.assertEqual((production.state, production.qty_produced), ("done", 10))
        shaft = production.move_raw_ids.filtered(lambda m: m.product_id == self.shaft)
        self.assertEqual(shaft.quantity, 21, "the MES's figure, not the bill of materials' 20")
        self.assertEqual(production.lot_producing_ids.mapped("name"), ["LOT-1"])
        self.assertEqual(
            (production.scrap_ids.scrap_qty, production.scrap_ids.scrap_reason_tag_ids), (1, self.damaged)
        )
        self.assertFalse(self._acknowledges(message), "ConfirmationCode Never: no answer")

    def test_same_bodid_twice_is_applied_once(self):
        production = self._order(quantity=10)
        first = self._perform(performance(production.name, materials=[produced("3")]))
        again = self._perform(performance(production.name, materials=[produced("3")], response_id="RESP-9"))
        self.assertEqual(first, again)
        self.assertEqual(production.qty_producing, 3)

    def test_always_is_answered_by_one_accepted_acknowledge(self):
        production = self._order(quantity=10)
        document = performance(
            production.name, bodid="BOD-A", materials=[produced("4")], sender={"ConfirmationCode": "Always"}
        )
        with PartnerServer() as server:
            self.isa.outbound_url = server.url
            message = self._perform(document)
            self._perform(document)
        self.assertEqual(message.state, "done", message.error_message)
        acknowledge = self._acknowledges(message)
        self.assertEqual(len(acknowledge), 1)
        self.assertEqual(acknowledge.state, "done", acknowledge.error_message)
        answer = json.loads(acknowledge.payload)
        self.assertEqual(answer["DataArea"]["Acknowledge"]["OriginalApplicationArea"]["BODID"], "BOD-A")
        self.assertEqual(
            answer["DataArea"]["Acknowledge"]["ResponseCriteria"][0]["ResponseExpression"],
            {"actionCode": "Accepted"},
        )
        [(_headers, body)] = [r for r in server.requests if json.loads(r[1])["type"] == acknowledge.flow_code]
        self.assertEqual(json.loads(body)["data"], answer)

    @mute_logger(ENGINE_LOGGER)
    def test_on_error_a_refused_document_is_rejected_with_its_reason(self):
        production = self._order(quantity=10)
        production.action_cancel()
        message = self._perform(
            performance(
                production.name,
                bodid="BOD-E",
                materials=[produced("1")],
                sender={"ConfirmationCode": "OnError"},
            )
        )
        self.assertEqual(message.state, "exception")
        acknowledge = self._acknowledges(message)
        self.assertEqual(len(acknowledge), 1, "stored although the attempt was rolled back")
        criteria = json.loads(acknowledge.payload)["DataArea"]["Acknowledge"]["ResponseCriteria"][0]
        self.assertEqual(criteria["ResponseExpression"], {"actionCode": "Rejected"})
        self.assertIn(production.name, criteria["ChangeStatus"]["Reason"])
        self.assertEqual(criteria["ChangeStatus"]["Reason"], message.error_message)

    @mute_logger(ENGINE_LOGGER)
    def test_unknown_order_waits_and_is_not_rejected(self):
        message = self._perform(
            performance("PLA/MO/EARLY", materials=[produced("2")], sender={"ConfirmationCode": "Always"})
        )
        self.assertEqual(
            (message.state, message.missing_kind, message.missing_code),
            ("exception", "record", "PLA/MO/EARLY"),
        )
        self.assertFalse(self._acknowledges(message), "waiting is no rejection")

    @mute_logger(ENGINE_LOGGER)
    def test_untranslatable_document_is_a_definitive_exception(self):
        production = self._order(quantity=10)
        message = self._perform(performance(production.name, state="Aborted"))
        self.assertEqual((message.state, message.error_definitive), ("exception", True))
        self.assertIn("aborted at the MES", message.error_message)

    def test_sync_change_restates_the_quantity_produced_so_far(self):
        production = self._order(quantity=10)
        self._perform(performance(production.name, bodid="BOD-1", materials=[produced("4")]))
        message = self._perform(
            performance(
                production.name, bodid="BOD-2", verb="Sync", action="Change", materials=[produced("7")]
            ),
            flow_code="isa95.sync_production_performance",
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(production.qty_producing, 7)

    def test_units_of_measure_are_mapped_and_a_completed_restatement_closes(self):
        self.Mapping.create(
            {
                "backend_id": self.isa.id,
                "external_code": "DZ",
                "record_ref": self.env.ref("uom.product_uom_dozen"),
            }
        )
        production = self._order(quantity=24)
        first = self._perform(
            performance(production.name, bodid="BOD-1", materials=[produced("1", lots=["LOT-D"], unit="DZ")])
        )
        self.assertEqual(first.state, "done", first.error_message)
        self.assertEqual(production.qty_producing, 12, "1 DZ = 12 Units")
        last = self._perform(
            performance(
                production.name,
                bodid="BOD-2",
                verb="Sync",
                action="Replace",
                state="Completed",
                materials=[produced("2", unit="DZ")],
            ),
            flow_code="isa95.sync_production_performance",
        )
        self.assertEqual(last.state, "done", last.error_message)
        self.assertEqual((production.state, production.qty_produced), ("done", 24))

    def test_confirmed_order_goes_out_as_a_b2mml_schedule(self):
        production = self._order(quantity=10)
        schedule = self._schedules(production)
        self.assertEqual(len(schedule), 1)
        self.assertEqual(schedule.backend_id, self.isa)
        document = json.loads(schedule.payload)
        self.assertEqual(schedule.idempotency_key, document["ApplicationArea"]["BODID"])
        [request] = document["DataArea"]["ProductionSchedule"][0]["ProductionRequest"]
        self.assertEqual((request["ID"], request["RequestState"]), (production.name, "Released"))
        [segment] = request["SegmentRequirement"]
        self.assertEqual(segment["EquipmentRequirement"], [{"EquipmentID": ["WC-ASM"]}])
        self.assertEqual(
            sorted(
                (m["MaterialDefinitionID"][0], m["MaterialUse"], m["Quantity"][0]["QuantityString"])
                for m in segment["MaterialRequirement"]
            ),
            [("GBX-100", "Produced", "10"), ("HS-1", "Consumed", "10"), ("SH-1", "Consumed", "20")],
        )
        with PartnerServer() as server:
            self.isa.outbound_url = server.url
            self._dispatch(self.isa)
        self.assertEqual(schedule.state, "done", schedule.error_message)
        secret = self.isa._get_credential("hmac", "outbound")._get_secret()
        [(headers, body)] = server.requests
        self.assertEqual(Webhook(secret).verify(body, headers)["data"], document)

    @mute_logger(ENGINE_LOGGER)
    def test_rejected_schedule_shows_on_the_order_accepted_one_is_noted(self):
        production = self._order(quantity=10)
        bodid = json.loads(self._schedules(production).payload)["ApplicationArea"]["BODID"]
        accepted = self._perform(
            schedule_acknowledge(bodid, "Accepted", None, bodid="ACK-1"),
            "isa95.acknowledge_production_schedule",
        )
        self.assertEqual(accepted.state, "done", accepted.error_message)
        self.assertIn("mrp.production", accepted.link_ids.mapped("res_model"))
        self.assertTrue(
            production.message_ids.filtered(lambda m: bodid in str(m.body) and "accepted" in str(m.body))
        )
        rejected = self._perform(
            schedule_acknowledge(bodid, "Rejected", production.name, reason="Routing unknown", bodid="ACK-2"),
            "isa95.acknowledge_production_schedule",
        )
        self.assertEqual((rejected.state, rejected.error_definitive), ("exception", True))
        self.assertIn("Routing unknown", rejected.error_message)
        self.assertIn(bodid, rejected.error_message)
        self.assertEqual(
            rejected.link_ids.filtered(lambda link: link.res_model == "mrp.production").res_id, production.id
        )


@tagged("post_install", "-at_install")
class TestB2mmlWebhook(IsaBackendMixin, MesCase, HttpCase):
    def test_signed_performance_goes_through_the_webhook_once_per_bodid(self):
        production = self._order(quantity=5)
        document = performance(
            production.name, bodid="BOD-W1", state="Completed", materials=[produced("5", lots=["LOT-W"])]
        )
        body = json.dumps(document).encode()

        def post(webhook_id):
            headers = self.isa._outbound_headers(webhook_id, int(time.time()), body)
            return self.url_open(
                "/integration/v1/plant-a-isa/isa95.process_production_performance", data=body, headers=headers
            )

        response = post("msg_w1")
        self.assertEqual(response.status_code, 202, response.text)
        again = post("msg_w1-resent")
        self.assertEqual(
            (again.status_code, again.json()["message_id"]), (200, response.json()["message_id"])
        )
        self._dispatch(self.isa)
        message = self.Message.browse(response.json()["message_id"])
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual((production.state, production.qty_produced), ("done", 5))
