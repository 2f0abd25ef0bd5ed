# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class IntegrationMessageLink(models.Model):
    """An Odoo record that a message created or changed, or failed for: traceability both ways."""

    _name = "integration.message.link"
    _description = "Integration Message Record"
    _order = "id"

    message_id = fields.Many2one(
        "integration.message",
        required=True,
        ondelete="cascade",
        index=True,
        help="The message that created, changed or concerns the record.",
    )
    res_model = fields.Char(string="Model", required=True, index=True, help="The model of the record.")
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", required=True, index=True, help="The id of the record."
    )
    record_ref = fields.Reference(
        selection="_selection_record_ref",
        compute="_compute_record_ref",
        string="Record",
        help="The Odoo record.",
    )

    # Records ask which messages concern them, for one model and a set of ids at a time.
    _record_idx = models.Index("(res_model, res_id)")

    @api.model
    def _selection_record_ref(self):
        return self.env["integration.mapping"]._selection_record_ref()

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for link in self:
            link.record_ref = f"{link.res_model},{link.res_id}" if link.res_model in self.env else False
