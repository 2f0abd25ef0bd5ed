# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid
from datetime import UTC, datetime

from odoo import models
from odoo.exceptions import UserError

from odoo.addons.integration_base.exceptions import (
    DefinitiveBusinessError,
    IntegrationBusinessError,
    WaitingError,
)

from ..lib import b2mml

_logger = logging.getLogger(__name__)

ACKNOWLEDGE_PERFORMANCE = "isa95.acknowledge_production_performance"
# The BODIDs of Odoo's acknowledges are derived from what they answer: the same answer is one message.
BODID_NAMESPACE = uuid.UUID("4f1c3a52-9a0e-4d2b-8c55-5b8f0e6d2a17")


class MesB2mmlProcessor(models.AbstractModel):
    """What the ISA-95 (B2MML) processors share: who Odoo is in a document, and its document ids."""

    _name = "integration.processor.mes.b2mml"
    _inherit = "integration.processor"
    _description = "MES: ISA-95 / B2MML documents"

    def _b2mml_sender(self):
        """Odoo's logical id in the ApplicationArea of what it sends: this database."""
        return f"odoo.{self.env.cr.dbname}"

    def _b2mml_now(self):
        return datetime.now(UTC).replace(microsecond=0)

    def _b2mml_bodid(self, *parts):
        """A new document id, or the one derived from ``parts`` (the same parts, the same id)."""
        if not parts:
            return str(uuid.uuid4())
        return str(uuid.uuid5(BODID_NAMESPACE, ":".join(str(part) for part in parts)))

    def _translated(self, translate, *args):
        """``translate(*args)`` of the B2MML module, its refusal a business error that a retry cannot mend."""
        try:
            return translate(*args)
        except b2mml.B2mmlError as error:
            raise DefinitiveBusinessError(str(error)) from error


class MesB2mmlPerformanceProcessor(models.AbstractModel):
    """Applies ``isa95.process_production_performance`` and ``isa95.sync_production_performance`` v1.

    Each ProductionResponse of the document becomes a simple
    ``mes.production_confirmation`` (see ``lib/b2mml.py``), applied by that
    contract's processor, so that both families change orders by the same
    rules. The whole document is applied, or nothing of it. When the MES
    asks for it (``ConfirmationCode``), Odoo answers with an
    ``isa95.acknowledge_production_performance``: Accepted once applied, or
    Rejected with the reason when a person must act. A document that waits
    (for an order Odoo does not know yet, a mapping) is not rejected: it
    goes on by itself, and is answered then.
    """

    _name = "integration.processor.mes.b2mml.production_performance"
    _inherit = "integration.processor.mes.b2mml"
    _description = "MES: ISA-95 production performance"

    def _process_inbound(self, message, payload):
        try:
            records = self._apply_performance(message, payload)
        except WaitingError:
            raise
        except UserError as error:
            if b2mml.wants_acknowledge(payload, failed=True):
                self._acknowledge_after_rollback(message, payload, error)
            raise
        if b2mml.wants_acknowledge(payload, failed=False):
            self._acknowledge(message, payload, accepted=True, reason=None, strict=True)
        return records

    def _apply_performance(self, message, payload):
        confirmations = self._translated(b2mml.production_confirmations, payload)
        Confirmation = self.env["integration.processor.mes.production_confirmation"]
        records = []
        for confirmation in confirmations:
            simple = (
                self._with_increment(message, confirmation)
                if "cumulative_qty" in confirmation
                else confirmation
            )
            records.extend(Confirmation._process_inbound(message, simple))
        return records

    def _with_increment(self, message, confirmation):
        """A restated (Sync Change or Replace) confirmation, with what it adds to the order.

        The MES's total is converted to the order's unit (the simple
        processor's unit rules), so that the increment and the count to
        close at are both in the order's unit.
        """
        backend = message.backend_id
        production = self.env["mrp.production"]._mes_find(backend, confirmation["order_ref"])
        uom = production.product_uom_id
        Confirmation = self.env["integration.processor.mes.production_confirmation"]
        total = Confirmation._quantity_in(
            backend, confirmation["cumulative_qty"], confirmation.get("unit"), uom
        )
        if uom.compare(total, production.qty_producing) < 0:
            reason = self.env._(
                "The MES restates order %(ref)s at %(total)s %(uom)s produced, less than the %(qty)s Odoo "
                "has recorded: Odoo does not take production back; correct the order in Odoo.",
                ref=production.name,
                qty=production.qty_producing,
                total=total,
                uom=uom.name,
            )
            raise IntegrationBusinessError(reason, records=production)
        simple = {key: value for key, value in confirmation.items() if key != "unit"}
        return {**simple, "cumulative_qty": total, "produced_qty": total - production.qty_producing}

    # ------------------------------------------------------------------
    # Acknowledges
    # ------------------------------------------------------------------

    def _acknowledge(self, message, payload, accepted, reason, strict=False):
        """Store the outbound acknowledge of ``payload``, child of ``message``.

        ``strict``: a missing acknowledge contract is the message's failure
        (the MES asked for an answer Odoo cannot give); otherwise it is only
        logged, for an answer to a failure that is told on the message anyway.
        """
        backend = message.backend_id
        Flow = self.env["integration.flow"]
        try:
            flow = Flow._contract_in_force(backend, ACKNOWLEDGE_PERFORMANCE, "outbound")
        except UserError as error:
            if not strict:
                _logger.warning("no acknowledge sent for message %s: %s", message.id, error)
                return self.env["integration.message"]
            raise IntegrationBusinessError(
                self.env._(
                    "The MES asks for an acknowledge of every document (ConfirmationCode Always), and "
                    "backend %(backend)s has no outbound contract %(code)s in force: activate it, then "
                    "retry.",
                    backend=backend.display_name,
                    code=ACKNOWLEDGE_PERFORMANCE,
                )
            ) from error
        outcome = "accepted" if accepted else f"rejected:{message.attempts}"
        original_bodid = payload["ApplicationArea"]["BODID"]
        document = b2mml.acknowledge_performance(
            payload,
            accepted=accepted,
            reason=reason,
            sender=self._b2mml_sender(),
            bodid=self._b2mml_bodid(backend.id, original_bodid, outcome),
            created_at=self._b2mml_now(),
        )
        acknowledge, _created = self.env["integration.message"]._ingest(
            backend,
            ACKNOWLEDGE_PERFORMANCE,
            document,
            direction="outbound",
            parent=message,
            ordering_key=message.ordering_key,
            flow=flow,
        )
        return acknowledge

    def _acknowledge_after_rollback(self, message, payload, error):
        """Answer Rejected once the failed attempt is rolled back, in the transaction that records why.

        What the processor stores now is undone with the attempt; a callback
        of the cursor's rollback stores the answer in the next transaction,
        which the dispatcher commits with the message's exception.
        """
        reason = str(error.args[0]) if error.args else str(error)
        env = self.env

        def acknowledge():
            try:
                with env.cr.savepoint():
                    self.with_env(env)._acknowledge(message, payload, accepted=False, reason=reason)
            except Exception:
                # The rejection is told on the message; only the answer to the MES is lost.
                _logger.exception("could not store the rejection of message %s", message.id)

        env.cr.postrollback.add(acknowledge)
