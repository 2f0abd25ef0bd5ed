# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import IntegrationBusinessError, IntegrationTechnicalError


class PartnerProcessor(models.AbstractModel):
    """A whole connector's business logic: create a partner from a message.

    With a contract (a flow whose JSON Schema describes the payload) this is
    all a connector needs: storage, deduplication, ordering, retries,
    exceptions and mappings come from the engine.
    """

    _name = "integration.processor.test.partner"
    _inherit = "integration.processor"
    _description = "Test: create a partner"

    def _process_inbound(self, message, payload):
        if payload.get("simulate") == "timeout":
            raise IntegrationTechnicalError("the partner's server did not answer in time")
        if payload["name"].startswith("!"):
            raise IntegrationBusinessError(f"A partner name cannot start with '!': {payload['name']}")
        country = self.env["res.country"]
        if payload.get("country"):
            country = self.env["integration.mapping"]._lookup(
                message.backend_id, "res.country", payload["country"]
            )
        return self.env["res.partner"].create(
            {"name": payload["name"], "ref": payload["ref"], "country_id": country.id}
        )

    def _prepare_payload(self, flow, record, event_code):
        """The same contract outbound: any record becomes a ``ref`` and a ``name``."""
        if record.display_name.startswith("!"):
            raise IntegrationBusinessError(f"{record.display_name} cannot be sent: its name starts with '!'")
        return {
            "ref": record.ref if "ref" in record._fields and record.ref else str(record.id),
            "name": record.display_name,
        }
