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

    Each confirmation adds its good quantity to what the order is producing
    (re-sends are stopped by the engine's idempotency key, and sums do not
    care which partial comes first), sets the components the MES reports as
    used, records scrap as Odoo scrap and the lots produced; quantities may
    come in any unit the MES names, converted through unit mappings. A final
    one closes the order: the components the MES did not report are consumed
    per bill of materials, or not at all, as the backend says, and a short
    order leaves a backorder when the backend wants one. When the final one
    says the MES counted more than Odoo has received (``cumulative_qty``), a
    confirmation is still on its way: the order closes when it arrives. A
    confirmation that cannot be applied whole changes nothing.
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
        self._check_takes_confirmations(production)
        uom = production.product_uom_id
        unit = payload.get("unit")
        produced = self._quantity_in(backend, payload["produced_qty"], unit, uom)
        total = production.qty_producing + produced
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
        closing_qty = production.mes_closing_qty
        if payload["final"]:
            counted = payload.get("cumulative_qty")
            closing_qty = total if counted is None else self._quantity_in(backend, counted, unit, uom)
        closes = bool(closing_qty or payload["final"]) and uom.compare(total, closing_qty) >= 0
        if closes and production.mes_on_hold:
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
                is_over=lambda env: not env["mrp.production"].browse(production.id)._mes_holds(),
            )
        consumed = self._consumed_moves(backend, production, payload.get("consumption", []))
        lots = self._produced_lots(production, payload.get("lots", []))
        if lots:
            production.lot_producing_ids |= lots
        production.qty_producing = total
        production._set_qty_producing()
        for move, quantity in consumed:
            move.mes_consumed_qty += quantity
            move.mes_reported = True
        self._set_component_quantities(backend, production)
        scraps = self._record_scrap(backend, production, payload.get("scrap", []), unit)
        production.message_post(body=self._summary(message, payload))
        if closes:
            self._close(backend, production)
        elif payload["final"]:
            production.mes_closing_qty = closing_qty
            production.message_post(
                body=self.env._(
                    "The MES closed the order at %(counted)s %(uom)s, of which Odoo received %(total)s: it "
                    "closes when the confirmations still on their way arrive.",
                    counted=closing_qty,
                    uom=uom.name,
                    total=total,
                )
            )
        return [production, *scraps]

    def _check_takes_confirmations(self, production):
        if production.state in ("confirmed", "progress", "to_close"):
            return
        # A done or cancelled order never takes one again; a draft one may once confirmed.
        error_class = (
            DefinitiveBusinessError if production.state in ("done", "cancel") else IntegrationBusinessError
        )
        raise error_class(
            self.env._(
                "Order %(ref)s is %(state)s: it takes no confirmation.",
                ref=production.name,
                state=self._selection_label(production).lower(),
            )
        )

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
            result.append(
                (move, self._quantity_in(backend, line["quantity"], line.get("unit"), move.product_uom))
            )
        return result

    def _set_component_quantities(self, backend, production):
        """Components the MES reported take its figures; the others follow the backend's setting.

        ``_set_qty_producing`` has just set every component to the bill of
        materials' share of the good quantity (backflush). Under "reported
        only", a component the MES never named is consumed not at all, and
        marked so, which also keeps Odoo's Done button from picking it.
        """
        for move in production.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            if move.mes_reported:
                move._set_quantity_done(move.mes_consumed_qty)
            elif backend.mes_component_consumption == "reported":
                move._set_quantity_done(0)
            else:
                continue
            move.picked = True

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

    def _record_scrap(self, backend, production, scrap_lines, unit):
        """Odoo scrap of the finished product, with the reason the MES gave (mapped).

        Scrapped units were made and found bad on the line: they leave the
        production location for the scrap location, never the stock, which
        holds the good quantity only.
        """
        scraps = self.env["stock.scrap"]
        for line in scrap_lines:
            reason = self.env["integration.mapping"]._lookup(
                backend, "stock.scrap.reason.tag", line["reason"]
            )
            uom = production.product_uom_id
            scrap = scraps.create(
                {
                    "production_id": production.id,
                    "product_id": production.product_id.id,
                    "product_uom_id": uom.id,
                    "scrap_qty": self._quantity_in(backend, line["quantity"], line.get("unit") or unit, uom),
                    "location_id": production.production_location_id.id,
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
        if production.product_uom_id.is_zero(production.qty_producing):
            return self._close_empty(backend, production)
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

    def _close_empty(self, backend, production):
        """The MES closed the order with no good quantity: Odoo cannot mark that done.

        As the backend says, the order is cancelled (the components the MES
        reported used are consumed all the same: they are gone from the
        floor), or a person decides.
        """
        if backend.mes_empty_closure == "exception":
            raise IntegrationBusinessError(
                self.env._(
                    "The MES closed order %(ref)s with nothing produced. Cancel the order (and this "
                    "message), or have the MES send the quantity it made and retry.",
                    ref=production.name,
                )
            )
        used = production.move_raw_ids.filtered(
            lambda m: m.picked and m.state not in ("done", "cancel") and not m.product_uom.is_zero(m.quantity)
        )
        used.with_context(skip_mo_check=True)._action_done(cancel_backorder=True)
        production.action_cancel()
        production.message_post(
            body=self.env._(
                "The MES closed the order with nothing produced: it is cancelled, and the components the "
                "MES reported used are consumed."
            )
        )

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
