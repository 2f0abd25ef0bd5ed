# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

ALERT_ACTIVITY = "mail.mail_activity_data_todo"


class IntegrationReconciliation(models.Model):
    """An external system's snapshot set against what Odoo holds, line by line.

    A WMS or MES posts what it counted (stock on hand per product and
    location, for example) on a reconciliation flow; the flow's processor
    stores the snapshot here and compares it with Odoo. Operators review the
    discrepancy lines, compare again after correcting either side, and mark
    the reconciliation reviewed. Discrepancies above the flow's threshold
    give the flow's owner one to-do, kept up to date by each comparison.
    """

    _name = "integration.reconciliation"
    _description = "Integration Reconciliation"
    _inherit = ["mail.thread", "integration.alert.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True, help="The reconciliation's reference.")
    backend_id = fields.Many2one(
        "integration.backend",
        required=True,
        index=True,
        readonly=True,
        help="The backend whose stock snapshot is compared with Odoo.",
    )
    flow_id = fields.Many2one(
        "integration.flow",
        string="Contract",
        required=True,
        index=True,
        readonly=True,
        ondelete="restrict",
        help="The reconciliation flow whose processor compares the snapshot with Odoo.",
    )
    message_id = fields.Many2one(
        "integration.message",
        string="Snapshot Message",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The message that brought the snapshot; done messages are purged after the "
        "retention period, the reconciliation stays.",
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, help="The company of the backend."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id",
        store=True,
        string="Plant",
        index=True,
        help="The plant of the backend.",
    )
    snapshot_ref = fields.Char(
        string="Snapshot", required=True, readonly=True, help="The snapshot's id at the external system."
    )
    taken_at = fields.Datetime(readonly=True, help="When the external system took the snapshot.")
    compared_at = fields.Datetime(readonly=True, help="When the snapshot was last compared with Odoo.")
    state = fields.Selection(
        [("to_review", "To Review"), ("reviewed", "Reviewed")],
        required=True,
        default="to_review",
        index=True,
        tracking=True,
        readonly=True,
        help="Where the review stands.",
    )
    line_ids = fields.One2many(
        "integration.reconciliation.line",
        "reconciliation_id",
        string="Lines",
        help="One line per product and location compared.",
    )
    line_count = fields.Integer(
        string="Number of Lines",
        compute="_compute_counts",
        store=True,
        help="How many products and locations were compared.",
    )
    discrepancy_count = fields.Integer(
        string="Discrepancies",
        compute="_compute_counts",
        store=True,
        help="How many lines differ by more than the contract's threshold.",
    )
    unmapped_count = fields.Integer(
        string="Unmapped",
        compute="_compute_counts",
        store=True,
        help="Lines whose product or location code has no mapping: create the mappings, "
        "then send the snapshot again.",
    )

    @api.depends("backend_id.code", "snapshot_ref")
    def _compute_name(self):
        for reconciliation in self:
            reconciliation.name = f"{reconciliation.backend_id.code}/{reconciliation.snapshot_ref}"

    @api.depends("line_ids.status")
    def _compute_counts(self):
        for reconciliation in self:
            statuses = reconciliation.line_ids.mapped("status")
            reconciliation.line_count = len(statuses)
            reconciliation.discrepancy_count = statuses.count("discrepancy")
            reconciliation.unmapped_count = statuses.count("unmapped")

    # ------------------------------------------------------------------
    # Comparison
    # ------------------------------------------------------------------

    def _compare_with_odoo(self):
        """Set the Odoo side of every line from the flow's source, as it stands now.

        The source answers for the snapshot's locations as a whole, so products
        that Odoo holds there and the snapshot does not mention get a line of
        their own, with an external quantity of 0. Runs when the snapshot
        arrives and again on demand.
        """
        for reconciliation in self:
            source = reconciliation.flow_id._get_processor()
            if not hasattr(source, "_odoo_quantities"):
                raise UserError(
                    self.env._(
                        "Contract %s no longer has a reconciliation processor: nothing to compare with.",
                        reconciliation.flow_id.display_name,
                    )
                )
            lines = reconciliation.line_ids
            comparable = lines.filtered(lambda line: line.product_id and line.location_id)
            odoo = dict(source._odoo_quantities(reconciliation, comparable.product_id, lines.location_id))
            for line in comparable:
                line.odoo_qty = odoo.pop((line.product_id, line.location_id), 0.0)
            self.env["integration.reconciliation.line"].create(
                [
                    {
                        "reconciliation_id": reconciliation.id,
                        "product_id": product.id,
                        "location_id": location.id,
                        "odoo_qty": quantity,
                    }
                    for (product, location), quantity in sorted(
                        odoo.items(), key=lambda item: (item[0][1].id, item[0][0].id)
                    )
                    if not product.uom_id.is_zero(quantity)
                ]
            )
            reconciliation.compared_at = fields.Datetime.now()
            reconciliation._alert_discrepancies()

    def _alert_discrepancies(self):
        """Keep one to-do for the flow's owner while a discrepancy exceeds the flow's threshold.

        One activity per reconciliation, not one per line: the owner reviews
        the snapshot as a whole. A later comparison rewrites it, or marks it
        done when no discrepancy is above the threshold any more.
        """
        self.ensure_one()
        threshold = self.flow_id.reconciliation_threshold_percent
        over = self.line_ids.filtered(
            lambda line: line.status == "discrepancy" and abs(line.difference_percent) > threshold
        )
        resolved = self.env._("No discrepancy above the threshold any more.")
        if not over:
            self._keep_alert(ALERT_ACTIVITY, self.flow_id.owner_id, {}, resolved)
            return
        worst = max(over, key=lambda line: (abs(line.difference_percent), abs(line.difference)))
        values = {
            "summary": self.env._(
                "Reconciliation: %(count)s discrepancies above %(threshold)g%%",
                count=len(over),
                threshold=threshold,
            ),
            "note": self.env._(
                "Worst: %(product)s at %(location)s, external %(external)g, Odoo %(odoo)g "
                "(%(percent).1f%%). Unmapped lines: %(unmapped)s.",
                product=worst.product_id.display_name,
                location=worst.location_id.display_name,
                external=worst.external_qty,
                odoo=worst.odoo_qty,
                percent=worst.difference_percent,
                unmapped=self.unmapped_count,
            ),
        }
        self._keep_alert(ALERT_ACTIVITY, self.flow_id.owner_id, values, resolved)

    # ------------------------------------------------------------------
    # Review by operators
    # ------------------------------------------------------------------

    def action_compare_again(self):
        """Compare the same snapshot with Odoo's current figures, after a correction on either side.

        The external side does not change: to count again, the external
        system sends a new snapshot.
        """
        self._compare_with_odoo()
        self.write({"state": "to_review"})
        for reconciliation in self:
            reconciliation.message_post(
                body=self.env._(
                    "Compared again with Odoo by %(user)s: %(count)s discrepancies.",
                    user=self.env.user.name,
                    count=reconciliation.discrepancy_count,
                )
            )
        return True

    def action_mark_reviewed(self):
        """Close the review: the discrepancies are explained or corrected."""
        self.activity_feedback([ALERT_ACTIVITY], feedback=self.env._("Reviewed"))
        self.write({"state": "reviewed"})
        return True
