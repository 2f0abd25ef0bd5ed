# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import IntegrationBusinessError


class IntegrationProcessorEdiAcknowledgement(models.AbstractModel):
    """``edi.acknowledgement``: the partner's 997 / 999 / CONTRL, matched with what we sent.

    Outbound, the engine writes our acknowledgements itself (see
    ``integration.processor.edi.interchange``); inbound, each one settles the
    register lines of the interchanges it names. One that names nothing we
    sent waits in exception: the partner acknowledged someone else's
    interchange, or numbers were mixed up.
    """

    _name = "integration.processor.edi.acknowledgement"
    _inherit = "integration.processor.edi"
    _description = "EDI: acknowledgement"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        facts = payload.get("#envelope") or {}
        settled = self.env["integration.edi.interchange"]._match_acknowledgement(
            backend, payload, facts.get("interchange")
        )
        if not settled:
            raise IntegrationBusinessError(
                self.env._(
                    "%(partner)s acknowledged interchange %(number)s, which Odoo never sent it.",
                    partner=backend.partner_id.display_name,
                    number=", ".join(
                        str(group.get("control_number")) for group in payload.get("groups") or []
                    )
                    or payload.get("interchange_control_number"),
                )
            )
        return settled
