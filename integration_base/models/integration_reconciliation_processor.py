# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.fields import Command

from ..exceptions import MissingMappingError


class IntegrationReconciliationProcessor(models.AbstractModel):
    """What every reconciliation flow does with a snapshot, whatever is counted.

    An inbound snapshot becomes an ``integration.reconciliation`` whose lines
    set the external figures against Odoo's. Two hooks say where the figures
    come from: :meth:`_snapshot_lines` reads the payload, and
    :meth:`_odoo_quantities` asks Odoo (stock quants, or any source a
    connector provides). A connector inherits this model under a name of its
    own, ``integration.processor.<something>``, and overrides both.

    This model's own name does not start with ``integration.processor.`` on
    purpose: it is no processor a flow can use by itself, so flows do not
    offer it.
    """

    _name = "integration.reconciliation.processor"
    _inherit = "integration.processor"
    _description = "Reconciliation (generic)"

    def _process_inbound(self, message, payload):
        """Store the snapshot as a reconciliation and compare it with Odoo.

        Codes without a mapping do not stop the snapshot: their lines are
        kept as *unmapped*, so the rest can be reviewed at once.
        """
        reconciliation = self.env["integration.reconciliation"].create(
            {
                "backend_id": message.backend_id.id,
                "flow_id": message.flow_id.id,
                "message_id": message.id,
                **self._snapshot_header(message, payload),
                "line_ids": [Command.create(values) for values in self._snapshot_lines(message, payload)],
            }
        )
        reconciliation._compare_with_odoo()
        return reconciliation

    def _snapshot_header(self, message, payload):
        """The reconciliation's values from the snapshot's ``snapshot_id`` and ``taken_at``."""
        taken_at = self._parse_datetime(payload.get("taken_at"), "snapshot's taken_at")
        return {
            "snapshot_ref": payload.get("snapshot_id") or message.idempotency_key,
            "taken_at": taken_at or False,
        }

    def _snapshot_lines(self, message, payload):
        """The snapshot's lines, as values of ``integration.reconciliation.line``.

        One dict per product and location (quantities of the same pair added
        up), with ``product_id`` and ``location_id`` left empty when their
        code has no mapping, and the external codes and quantity as sent.
        A list rather than a ``{(product, location): quantity}`` dict, so that
        unmapped lines and the codes of mapped ones are kept for the operator.
        """
        raise NotImplementedError(f"{self._name} does not read snapshots")

    def _odoo_quantities(self, reconciliation, products, locations):
        """What Odoo holds now, as ``{(product, location): quantity}``.

        Must answer for ``products`` (missing pairs count as 0) and may
        answer for more: every product that Odoo holds in ``locations``, so
        that what the snapshot leaves out shows up too.
        """
        raise NotImplementedError(f"{self._name} has no Odoo side to compare with")

    def _mapped_or_empty(self, backend, res_model, external_code):
        """The record mapped to ``external_code``, or an empty recordset: a snapshot takes unmapped codes."""
        try:
            return self.env["integration.mapping"]._lookup(backend, res_model, external_code)
        except MissingMappingError:
            return self.env[res_model]
