# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    def _get_mes_backend(self):
        """The active MES backend of the plant that makes this order, if any.

        The plant is the warehouse of the order's operation type; a plant
        without an active MES backend gets an empty recordset, so its orders
        are simply not sent anywhere.
        """
        self.ensure_one()
        return self.env["integration.backend"]._get_active_backend("mes", self.picking_type_id.warehouse_id)
