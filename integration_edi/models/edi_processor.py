# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

ACKNOWLEDGEMENT_FLOW = "edi.acknowledgement"


class IntegrationProcessorEdi(models.AbstractModel):
    """What the EDI contracts share: the envelope of what we write, and its line in the register."""

    _name = "integration.processor.edi"
    _inherit = "integration.processor"
    _description = "EDI: shared rules"

    def _enveloped(self, backend, document, record=None, transactions=1):
        """``document`` with the ``#envelope`` of a new interchange to ``backend``, registered as sent."""
        envelope = backend._edi_envelope(transactions=transactions)
        self.env["integration.edi.interchange"]._record_sent(backend, envelope, document["document"], record)
        return {**document, "#envelope": envelope}

    def _unit_code(self, backend, uom):
        """The partner's code of ``uom``: its mapping, else EA for Odoo's Units (others need a mapping)."""
        default = "EA" if uom == self.env.ref("uom.product_uom_unit") else None
        return self.env["integration.mapping"]._external_code(backend, uom, default=default)

    def _send_acknowledgement(self, backend, acknowledgement, parent):
        """Store the acknowledgement of a received interchange as an outbound message; its number.

        One message per interchange acknowledged (its key is the interchange's
        number): a retried interchange does not acknowledge twice.
        """
        Message = self.env["integration.message"]
        key = f"ack:{acknowledgement['interchange_control_number']}"
        known = Message._find_by_key(backend, ACKNOWLEDGEMENT_FLOW, "outbound", key)
        if known:
            return known
        groups = acknowledgement.get("groups") or []
        count = len(groups) if backend.contract_family == "x12" else 1
        if not count and not acknowledgement.get("interchange_status"):
            return Message  # an X12 interchange accepted without any group: there is nothing to answer
        payload = self._enveloped(backend, acknowledgement, transactions=count)
        message, _created = Message._ingest(
            backend, ACKNOWLEDGEMENT_FLOW, payload, idempotency_key=key, direction="outbound", parent=parent
        )
        return message
