# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ContactProcessor(models.AbstractModel):
    """A contact of the external system, created once and then kept up to date by its id there.

    The contract template (``data/``) says what a contact message looks like;
    the binding (``integration.binding``) remembers which partner stands for
    which id; the transport (a webhook, or an API Odoo polls) is configuration.
    This method is the whole connector.
    """

    _name = "integration.processor.test.contact"
    _inherit = "integration.processor"
    _description = "Test: keep a contact up to date by its external id"

    def _process_inbound(self, message, payload):
        values = {"name": payload["name"], "email": payload.get("email") or False}
        return self.env["integration.binding"]._upsert(
            message.backend_id, "res.partner", payload["id"], values
        )
