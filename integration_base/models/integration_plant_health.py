# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools


class IntegrationPlantHealth(models.Model):
    """The integration health of one plant, across all of its backends.

    A plant manager asks "is anything from my plant's systems late or
    stuck?", not "how is backend X?": one row per plant that has backends,
    with the figures of :class:`integration.health.figures`.
    """

    _name = "integration.plant.health"
    _description = "Integration Plant Health"
    _inherit = ["integration.health.figures"]
    _auto = False
    _order = "warehouse_id"
    _rec_name = "warehouse_id"
    _health_message_field = "warehouse_id"

    warehouse_id = fields.Many2one("stock.warehouse", string="Plant", readonly=True, help="The plant.")
    company_id = fields.Many2one("res.company", readonly=True, help="The company of the plant.")
    backend_count = fields.Integer(
        string="Backends", readonly=True, help="How many active backends the plant has."
    )
    backend_ids = fields.One2many(
        "integration.backend",
        compute="_compute_backend_ids",
        string="Backends ",
        help="The plant's backends, whose messages make its figures.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""CREATE VIEW {self._table} AS (
                SELECT w.id AS id, w.id AS warehouse_id, w.company_id AS company_id,
                       count(b.id) AS backend_count
                  FROM stock_warehouse w
                  JOIN integration_backend b ON b.warehouse_id = w.id AND b.active
              GROUP BY w.id, w.company_id)"""
        )

    def _health_key(self):
        return self.warehouse_id.id

    def _compute_backend_ids(self):
        for plant in self:
            plant.backend_ids = self.env["integration.backend"].search(
                [("warehouse_id", "=", plant.warehouse_id.id)]
            )
