# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import UTC, datetime

from odoo import models
from odoo.exceptions import UserError

from ..exceptions import IntegrationBusinessError


class IntegrationProcessor(models.AbstractModel):
    """What a connector writes to apply one contract's messages to Odoo.

    A connector declares ``_name = "integration.processor.<something>"`` with
    ``_inherit = "integration.processor"`` and implements the methods of the
    directions it handles (``_prepare_payload`` for outbound contracts fed
    by events); flows then choose it by that name. The dispatcher calls
    ``_process_inbound`` in the transaction that marks the message ``done``,
    so the effect and the state are committed together or not at all, as
    the backend's technical user. Outbound messages are delivered by the
    engine's transport. Processors raise
    :class:`~odoo.addons.integration_base.exceptions.IntegrationBusinessError`
    (or its ``MissingMappingError``) for anything a person must fix, and so
    does Odoo when it raises a ``UserError`` or a database constraint fails;
    any other exception is a technical error and is retried.
    """

    _name = "integration.processor"
    _description = "Integration Processor"

    def _process_inbound(self, message, payload):
        """Apply an inbound ``payload`` (already valid against its contract).

        Returns the records created or changed (a recordset, or a list of records of
        several models), which are linked to the message.
        """
        raise IntegrationBusinessError(
            self.env._("Contract %s cannot process inbound messages.", message.flow_id.display_name)
        )

    def _prepare_payload(self, flow, record, event_code):
        """The outbound payload of ``flow`` for ``record``, when event ``event_code`` happened to it.

        Connectors implement this for the outbound contracts they offer. It may
        raise a business error (a product without a code at the partner, say):
        the message is then kept in exception and built again when retried.
        """
        raise IntegrationBusinessError(
            self.env._("Contract %s does not know how to build its messages from events.", flow.display_name)
        )

    @staticmethod
    def _selection_label(record, field_name="state"):
        """The label of ``record``'s selection field as users read it ("Cancelled", not "cancel")."""
        field = record._fields[field_name]
        return dict(field._description_selection(record.env)).get(record[field_name], record[field_name])

    @contextmanager
    def _concerning(self, records):
        """Name ``records`` on any refusal raised inside the block.

        ``with self._concerning(order): ...`` once the order is found: when
        applying the message then fails for a business reason (a cancelled
        order, a missing mapping, Odoo refusing the change), the dispatcher
        links the order to the message although the attempt is rolled back, so
        that the order shows the refusal (see ``IntegrationBusinessError.records``).
        """
        try:
            yield
        except UserError as error:
            error.records = [*(getattr(error, "records", None) or ()), *records]
            raise

    def _parse_datetime(self, value, what):
        """The ISO 8601 date and time ``value`` of a payload, in UTC without time zone as Odoo stores it.

        A value Odoo cannot read is a business error naming ``what`` it was.
        """
        if not value:
            return False
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise IntegrationBusinessError(
                self.env._(
                    "The %(what)s '%(value)s' is not an ISO 8601 date and time.", what=what, value=value
                )
            ) from error
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

    def _check_time_order(self, start, end, what):
        """Refuse, in words, a time span ``what`` (a sentence's subject) that ends before it starts."""
        if start and end and end < start:
            raise IntegrationBusinessError(self.env._("%s ends before it starts.", what))

    @staticmethod
    def _format_datetime(moment):
        """An Odoo date and time (UTC without time zone) as ISO 8601 with its offset, for a payload."""
        return moment.replace(tzinfo=UTC).isoformat() if moment else None

    def _quantity_in(self, backend, quantity, unit_code, uom):
        """``quantity`` counted in the system's unit ``unit_code`` (mapped to a unit), in Odoo's ``uom``.

        No unit means ``uom`` itself. An unmapped unit waits for its mapping;
        a unit of another kind (kilograms for pieces) is refused in words.
        """
        if not unit_code:
            return quantity
        unit = self.env["integration.mapping"]._lookup(backend, "uom.uom", unit_code)
        if unit == uom:
            return quantity
        if not unit._has_common_reference(uom):
            raise IntegrationBusinessError(
                self.env._(
                    "%(backend)s counts in %(unit)s (%(code)s), which cannot be converted to %(uom)s.",
                    backend=backend.display_name,
                    unit=unit.name,
                    code=unit_code,
                    uom=uom.name,
                )
            )
        return unit._compute_quantity(quantity, uom, round=False)
