# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.fields import Domain


class IntegrationMissingMapping(models.Model):
    """The codes that messages in exception wait for, one line per code and backend.

    A plant that starts sending a new product code parks every message that
    uses it; functional users want to see the code once, with how many
    messages wait for it, and map it there (one or many at a time) rather
    than open each message. Read from the messages themselves, so it is
    never out of date: a line disappears when its messages are retried.
    """

    _name = "integration.missing.mapping"
    _description = "Code Waiting for a Mapping"
    _auto = False
    _order = "message_count desc, waiting_since"
    _rec_name = "missing_code"

    company_id = fields.Many2one("res.company", readonly=True, help="The company of the backend.")
    backend_id = fields.Many2one(
        "integration.backend", readonly=True, help="The backend whose messages wait for the mapping."
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Plant", readonly=True, help="The plant of the backend."
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        readonly=True,
        help="Inbound: the backend sent a code Odoo cannot place. Outbound: an Odoo record has no code "
        "at the backend yet.",
    )
    missing_model = fields.Char(string="Kind", readonly=True, help="The model (or value set) of the mapping.")
    missing_code = fields.Char(string="Code", readonly=True, help="The code (or record) without a mapping.")
    missing_label = fields.Char(
        string="Missing Mapping", compute="_compute_missing_label", help="What is missing, in words."
    )
    message_count = fields.Integer(
        string="Messages Waiting", readonly=True, help="Messages in exception until this mapping exists."
    )
    waiting_since = fields.Datetime(
        readonly=True, aggregator="min", help="When the first of these messages was parked."
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # The first waiting message's id names the line: stable for as long as the line exists.
        self.env.cr.execute(
            f"""CREATE VIEW {self._table} AS (
                  SELECT min(m.id) AS id, m.company_id, m.backend_id, m.warehouse_id, m.direction,
                         m.missing_model, m.missing_code, count(*) AS message_count,
                         min(m.exception_since) AS waiting_since
                    FROM integration_message m
                   WHERE m.state = 'exception' AND m.missing_kind = 'mapping'
                GROUP BY m.company_id, m.backend_id, m.warehouse_id, m.direction, m.missing_model,
                         m.missing_code)"""
        )

    @api.depends("backend_id", "direction", "missing_model", "missing_code")
    def _compute_missing_label(self):
        Message = self.env["integration.message"]
        for line in self:
            line.missing_label = Message._describe_missing(
                line.backend_id, line.direction, line.missing_model, line.missing_code
            )

    def _waiting_messages(self):
        """The messages in exception behind these lines."""
        keys = [
            [
                ("backend_id", "=", line.backend_id.id),
                ("direction", "=", line.direction),
                ("missing_model", "=", line.missing_model),
                ("missing_code", "=", line.missing_code),
            ]
            for line in self
        ]
        domain = Domain("state", "=", "exception") & Domain.OR(keys)
        return self.env["integration.message"].search(domain)

    def action_create_mapping(self):
        """Map these codes: the dialog has one line per code, prefilled."""
        return self.env["integration.mapping.wizard"]._action_for_messages(self._waiting_messages())

    def action_view_messages(self):
        """The messages waiting behind these lines (the Messages action, for its views and help)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("integration_base.integration_message_action")
        action.update(
            name=self.env._("Messages waiting for %s", self[:1].missing_label),
            domain=[("id", "in", self._waiting_messages().ids)],
        )
        return action
