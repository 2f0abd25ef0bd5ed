# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import UserError

from odoo.addons.integration_base.exceptions import (
    DefinitiveBusinessError,
    IntegrationBusinessError,
    WaitingError,
)


class MesProductionConfirmationProcessor(models.AbstractModel):
    """Applies ``mes.production_confirmation`` v1 to a manufacturing order.

    Each confirmation adds its good quantity to what the order is producing,
    sets the components the MES reports as used (the others follow the bill
    of materials), records scrap as Odoo scrap and the lots produced; a final
    one marks the order done, with a backorder for the rest when the backend
    says so. A confirmation that cannot be applied whole changes nothing.
    """

    _name = "integration.processor.mes.production_confirmation"
    _inherit = "integration.processor"
    _description = "MES: production confirmation"

    def _process_inbound(self, message, payload):
        production = self.env["mrp.production"]._mes_find(message.backend_id, payload["order_ref"])
        # A refusal from here on shows on the order, although nothing of it is applied.
        with self._concerning(production):
            return self._confirm(message, payload, production)

    def _confirm(self, message, payload, production):
        backend = message.backend_id
        if production.state not in ("confirmed", "progress", "to_close"):
            # A done or cancelled order never takes one again; a draft one may once confirmed.
            error_class = (
                DefinitiveBusinessError
                if production.state in ("done", "cancel")
                else IntegrationBusinessError
            )
            raise error_class(
                self.env._(
                    "Order %(ref)s is %(state)s: it takes no confirmation.",
                    ref=production.name,
                    state=self._selection_label(production).lower(),
                )
            )
        total = production.qty_producing + payload["produced_qty"]
        uom = production.product_uom_id
        if uom.compare(total, production.product_qty) > 0 and not backend.mes_allow_overproduction:
            raise IntegrationBusinessError(
                self.env._(
                    "Order %(ref)s would produce %(total)s %(uom)s of %(planned)s planned, and backend "
                    "%(backend)s does not allow overproduction.",
                    ref=production.name,
                    total=total,
                    uom=uom.name,
                    planned=production.product_qty,
                    backend=backend.display_name,
                )
            )
        if payload["final"] and production.mes_on_hold:
            hold = production._mes_holds()[:1]
            raise WaitingError(
                self.env._(
                    "Order %(ref)s is on quality hold %(hold)s: the final confirmation waits for the "
                    "release, and goes on by itself then.",
                    ref=production.name,
                    hold=hold.name,
                ),
                hold._name,
                hold.name,
                wait_kind="change",
            )
        consumed = self._consumed_moves(backend, production, payload.get("consumption", []))
        lots = self._produced_lots(production, payload.get("lots", []))
        if lots:
            production.lot_producing_ids |= lots
        production.qty_producing = total
        production._set_qty_producing()
        for move, quantity in consumed:
            move.mes_consumed_qty += quantity
        for move in production.move_raw_ids.filtered("mes_consumed_qty"):
            move._set_quantity_done(move.mes_consumed_qty)
            move.picked = True
        scraps = self._record_scrap(backend, production, payload.get("scrap", []))
        production.message_post(body=self._summary(message, payload))
        if payload["final"]:
            self._close(backend, production)
        return [production, *scraps]

    def _consumed_moves(self, backend, production, consumption):
        """``(component move, quantity)`` of each reported component; unknown ones are refused."""
        result = []
        for line in consumption:
            product = self.env["integration.mapping"]._lookup(backend, "product.product", line["product"])
            move = production.move_raw_ids.filtered(
                lambda m, p=product: m.product_id == p and m.state not in ("done", "cancel")
            )[:1]
            if not move:
                raise IntegrationBusinessError(
                    self.env._(
                        "%(product)s is not a component of order %(ref)s.",
                        product=product.display_name,
                        ref=production.name,
                    )
                )
            result.append((move, line["quantity"]))
        return result

    def _produced_lots(self, production, names):
        """The lots (or serials) of the order's product with these names, created when new."""
        if not names:
            return self.env["stock.lot"]
        if production.product_id.tracking == "none":
            raise IntegrationBusinessError(
                self.env._(
                    "%s is not tracked by lots: the confirmation should not name any.",
                    production.product_id.display_name,
                )
            )
        if production.product_id.tracking == "lot":
            current = production.lot_producing_ids
            if len(set(names)) > 1 or (current and current.name not in names):
                raise IntegrationBusinessError(
                    self.env._(
                        "Order %(ref)s produces one lot (%(lot)s); the MES sent %(names)s.",
                        ref=production.name,
                        lot=current.name or "-",
                        names=", ".join(names),
                    )
                )
        Lot = self.env["stock.lot"]
        lots = Lot
        for name in names:
            lot = Lot.search(
                [
                    ("name", "=", name),
                    ("product_id", "=", production.product_id.id),
                    ("company_id", "in", (production.company_id.id, False)),
                ],
                limit=1,
            )
            lots |= lot or Lot.create(
                {"name": name, "product_id": production.product_id.id, "company_id": production.company_id.id}
            )
        return lots

    def _record_scrap(self, backend, production, scrap_lines):
        """Odoo scrap of the finished product, with the reason the MES gave (mapped)."""
        scraps = self.env["stock.scrap"]
        for line in scrap_lines:
            reason = self.env["integration.mapping"]._lookup(
                backend, "stock.scrap.reason.tag", line["reason"]
            )
            scrap = scraps.create(
                {
                    "production_id": production.id,
                    "product_id": production.product_id.id,
                    "product_uom_id": production.product_uom_id.id,
                    "scrap_qty": line["quantity"],
                    "company_id": production.company_id.id,
                    "lot_id": production.lot_producing_ids[:1].id,
                    "scrap_reason_tag_ids": [(6, 0, reason.ids)],
                }
            )
            scrap.do_scrap()
            scraps |= scrap
        return scraps

    def _close(self, backend, production):
        """Mark the order done as the MES closed it: short means a backorder, if the backend wants one."""
        short = production.product_uom_id.compare(production.qty_producing, production.product_qty) < 0
        backorder = production.ids if short and backend.mes_create_backorder else []
        try:
            production.with_context(
                skip_consumption=True, skip_backorder=True, mo_ids_to_backorder=backorder
            ).button_mark_done()
        except UserError as error:
            raise IntegrationBusinessError(
                self.env._(
                    "Order %(ref)s could not be marked done: %(error)s", ref=production.name, error=error
                )
            ) from error
        if production.state != "done":
            raise IntegrationBusinessError(self.env._("Order %s could not be marked done.", production.name))

    def _summary(self, message, payload):
        parts = [
            self.env._(
                "MES confirmation %(event)s: %(qty)s produced",
                event=payload["event_id"],
                qty=payload["produced_qty"],
            )
        ]
        if payload.get("operator"):
            parts.append(self.env._("by %s", payload["operator"]))
        if payload.get("started_at") or payload.get("finished_at"):
            parts.append(
                self.env._(
                    "from %(start)s to %(end)s",
                    start=payload.get("started_at", "?"),
                    end=payload.get("finished_at", "?"),
                )
            )
        if payload["final"]:
            parts.append(self.env._("(final)"))
        return " ".join(parts)
