# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ISA-95 business object documents (MESA B2MML V0701 shapes, in JSON) to and from the simple MES contracts.

An MES that speaks ISA-95 sends and expects B2MML documents; Odoo's MES
processors understand the simple ``mes.*`` contracts. This module translates
one into the other, and nothing else: no database, no Odoo, so that every
rule of the mapping is tested on plain dictionaries (see ``readme/ISA95.md``
for the field-by-field table).

The JSON follows the XML's shape: an element is a key with the element's
name, an element that may repeat is a list, an attribute (``releaseID``,
``actionCode``) is a key of its element. Identifiers are plain strings.

The payloads it reads have passed their contract's JSON Schema already;
what a schema cannot say (one order per document, a known material use) is
refused here with a :class:`B2mmlError` in words.
"""

from datetime import datetime
from decimal import Decimal

RELEASE_ID = "V0701"

# What an MES reports as good production, as components used, and what Odoo does not apply.
PRODUCED_USES = ("Produced",)
CONSUMED_USES = ("Consumed", "Consumable")
# B2MML has no "scrap" material use: a produced lot with this property is scrap, the value its reason.
SCRAP_REASON_PROPERTY = "ScrapReason"
# A B2MML confirmation code: when the receiver of a document answers with an acknowledge.
CONFIRMATION_CODES = ("Never", "OnError", "Always")
# The confirmation code of the schedules Odoo sends: the MES answers only when it refuses one.
SCHEDULE_CONFIRMATION_CODE = "OnError"

ACTION_CODES = {"create": "Add", "update": "Change", "cancel": "Change"}


class B2mmlError(ValueError):
    """A document that passed its schema but cannot be translated: the reason is for people."""


# ----------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------


def format_number(value):
    """A quantity as B2MML writes it (a QuantityString): ``10.0`` is ``"10"``, never ``"1E+1"``."""
    text = format(Decimal(repr(float(value))).normalize(), "f")
    return "0" if text in ("-0", "") else text


def quantity(value, unit=None):
    """One B2MML ``Quantity`` element: the value as text, its data type and unit."""
    element = {"QuantityString": format_number(value), "DataType": "decimal"}
    if unit:
        element["UnitOfMeasure"] = unit
    return element


def duration(minutes):
    """Minutes as an ISO 8601 duration (xsd:duration), in whole seconds: 300 minutes is ``"PT5H"``."""
    seconds = round((minutes or 0) * 60)
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if mins:
        text += f"{mins}M"
    if secs or not (hours or mins):
        text += f"{secs}S"
    return text


def read_quantity(element, where):
    """``(value, unit)`` of the first ``Quantity`` of an element (the one B2MML reports in)."""
    quantities = element.get("Quantity") or []
    if not quantities:
        raise B2mmlError(f"{where} has no Quantity.")
    first = quantities[0]
    try:
        value = float(Decimal(first["QuantityString"]))
    except (ArithmeticError, ValueError, TypeError) as error:
        raise B2mmlError(f"{where}: '{first.get('QuantityString')}' is not a number.") from error
    if value < 0:
        raise B2mmlError(f"{where}: the quantity {first['QuantityString']} is negative.")
    return value, first.get("UnitOfMeasure") or None


def property_value(element, property_key, property_id):
    """The text value of the element's property ``property_id`` (for example a MaterialActualProperty)."""
    for prop in element.get(property_key) or []:
        if prop.get("ID") == property_id:
            values = prop.get("Value") or []
            return values[0].get("ValueString") if values else ""
    return None


# ----------------------------------------------------------------------
# Application area: who sends the document, when, under which id
# ----------------------------------------------------------------------


def application_area(sender, bodid, created_at, receiver=None, confirmation="Never"):
    """The ``ApplicationArea`` of a document Odoo sends (``created_at``: an aware datetime)."""
    area = {
        "Sender": {"LogicalID": sender, "ComponentID": "Odoo", "ConfirmationCode": confirmation},
        "CreationDateTime": created_at.isoformat(),
        "BODID": bodid,
    }
    if receiver:
        area["Receiver"] = [{"LogicalID": receiver}]
    return area


def confirmation_code(document):
    """When the sender of ``document`` wants an answer: ``Never`` (the default), ``OnError``, ``Always``."""
    sender = document.get("ApplicationArea", {}).get("Sender") or {}
    return sender.get("ConfirmationCode") or "Never"


def wants_acknowledge(document, failed):
    """Whether the sender asked to hear how its document went, given that it ``failed`` or not."""
    code = confirmation_code(document)
    return code == "Always" or (code == "OnError" and failed)


# ----------------------------------------------------------------------
# Outbound: ProcessProductionSchedule from the simple production order
# ----------------------------------------------------------------------


def production_schedule(order, sender, receiver, bodid, created_at):
    """``ProcessProductionSchedule`` of one manufacturing order, from its ``mes.production_order`` payload.

    One ProductionSchedule with one ProductionRequest (the order); one
    SegmentRequirement per work order, in their sequence, with its work
    centre and expected duration; the product made is a Produced
    MaterialRequirement of the last segment, the components are Consumed
    ones of the first (Odoo does not say which operation uses which). An
    order without work orders is one segment named after the order.
    """
    segments = [
        {
            "ID": str(operation["sequence"]),
            "ProcessSegmentID": operation["name"],
            "Description": [operation["name"]],
            "EquipmentRequirement": [{"EquipmentID": [operation["work_center"]]}],
            "Duration": duration(operation["expected_minutes"]),
        }
        for operation in order["operations"]
    ] or [{"ID": order["order_ref"], "Description": [order["order_ref"]]}]
    produced = _material_requirement(order, "Produced")
    consumed = [_material_requirement(component, "Consumed") for component in order["components"]]
    segments[0]["MaterialRequirement"] = consumed
    segments[-1]["MaterialRequirement"] = [*segments[-1].get("MaterialRequirement", []), produced]
    request = {
        "ID": order["order_ref"],
        "RequestState": "Cancelled" if order["action"] == "cancel" else "Released",
        "SegmentRequirement": segments,
    }
    if order.get("planned_start"):
        request["StartTime"] = order["planned_start"]
    if order.get("planned_end"):
        request["EndTime"] = order["planned_end"]
    return {
        "releaseID": RELEASE_ID,
        "ApplicationArea": application_area(
            sender, bodid, created_at, receiver=receiver, confirmation=SCHEDULE_CONFIRMATION_CODE
        ),
        "DataArea": {
            "Process": {
                "ActionCriteria": [{"ActionExpression": {"actionCode": ACTION_CODES[order["action"]]}}]
            },
            "ProductionSchedule": [{"ID": order["order_ref"], "ProductionRequest": [request]}],
        },
    }


def _material_requirement(line, use):
    requirement = {
        "MaterialDefinitionID": [line["product"]],
        "MaterialUse": use,
        "Quantity": [quantity(line["quantity"], line.get("unit"))],
    }
    if line.get("tracking") and line["tracking"] != "none":
        requirement["MaterialRequirementProperty"] = [
            {"ID": "Tracking", "Value": [{"ValueString": line["tracking"]}]}
        ]
    return requirement


# ----------------------------------------------------------------------
# Inbound: Process/SyncProductionPerformance to simple confirmations
# ----------------------------------------------------------------------


def performance_verb(document):
    """``"Process"`` or ``"Sync"``: the verb of a ProductionPerformance document."""
    return "Sync" if "Sync" in document["DataArea"] else "Process"


def _action_codes(verb_element):
    return {
        criteria.get("ActionExpression", {}).get("actionCode")
        for criteria in verb_element.get("ActionCriteria") or []
    } - {None}


def performance_responses(document):
    """``(order reference, [ProductionResponse])`` of a ProductionPerformance document: one order only.

    The document's order is its ordering key, so that the reports on one
    order are applied in the order they were sent; a document about several
    orders could not be, and is refused.
    """
    performances = document["DataArea"]["ProductionPerformance"]
    responses = [response for performance in performances for response in performance["ProductionResponse"]]
    orders = sorted({response["ProductionRequestID"] for response in responses})
    if len(orders) != 1:
        raise B2mmlError(
            f"The document reports on {len(orders)} orders ({', '.join(orders)}): send one document per "
            "order, so that each order's reports are applied in the order they were made."
        )
    return orders[0], responses


def production_confirmations(document):
    """The ``mes.production_confirmation`` payloads of a Process or Sync ProductionPerformance.

    One per ProductionResponse, in the document's order. A Process (or a
    Sync that adds responses) reports what happened since the last report:
    the produced quantity is ``produced_qty``. A Sync that changes or
    replaces a response restates its totals: the produced quantity is then
    ``cumulative_qty`` (the caller computes ``produced_qty`` from what the
    order has), and consumption or scrap in it is refused, since Odoo keeps
    them as increments. A Sync that deletes a response is refused.
    """
    data = document["DataArea"]
    bodid = document["ApplicationArea"]["BODID"]
    restated = False
    if "Sync" in data:
        codes = _action_codes(data["Sync"])
        if "Delete" in codes:
            raise B2mmlError(
                "A Sync that deletes a production response is not supported: Odoo does not undo "
                "production; correct the order in Odoo."
            )
        restated = bool(codes & {"Change", "Replace"})
    _order_ref, responses = performance_responses(document)
    return [_confirmation(bodid, response, restated) for response in responses]


def _confirmation(bodid, response, restated):
    where = f"ProductionResponse {response['ID']}"
    state = response.get("ResponseState") or "Running"
    if state == "Aborted":
        raise B2mmlError(
            f"{where} was aborted at the MES: Odoo does not close or cancel an order from an aborted "
            "response; decide in Odoo what becomes of the order, then cancel this message."
        )
    segments = list(_segments(response.get("SegmentResponse") or []))
    produced, lots, consumption, scrap = _material(segments, where)
    units = sorted({unit for _qty, unit in produced if unit})
    if len(units) > 1:
        raise B2mmlError(f"{where} reports the produced quantity in several units ({', '.join(units)}).")
    total = sum(qty for qty, _unit in produced)
    payload = {
        "event_id": f"{bodid}/{response['ID']}",
        "order_ref": response["ProductionRequestID"],
        "final": state == "Completed",
    }
    if restated:
        if consumption or scrap:
            raise B2mmlError(
                f"{where} restates consumed or scrapped material (Sync Change or Replace): Odoo records "
                "them as they happen; send them in a Process, or a Sync that adds a response."
            )
        payload["cumulative_qty"] = total
    else:
        payload["produced_qty"] = total
    if units:
        payload["unit"] = units[0]
    optional = {
        "consumption": consumption,
        "scrap": scrap,
        "lots": lots,
        "operator": _operator(segments),
        "started_at": response.get("StartTime") or _edge(segments, "ActualStartTime", min),
        "finished_at": response.get("EndTime") or _edge(segments, "ActualEndTime", max),
    }
    payload.update({key: value for key, value in optional.items() if value})
    return payload


def _segments(segments):
    """Every SegmentResponse, nested ones included (depth first, in the document's order)."""
    for segment in segments:
        yield segment
        yield from _segments(segment.get("SegmentResponse") or [])


def _material(segments, where):
    """``(produced [(qty, unit)], lots, consumption lines, scrap lines)`` of the segments' MaterialActuals."""
    produced, lots, consumption, scrap = [], [], [], []
    for segment in segments:
        for index, actual in enumerate(segment.get("MaterialActual") or [], start=1):
            place = f"{where}, segment {segment.get('ID', '?')}, MaterialActual {index}"
            use = actual["MaterialUse"]
            qty, unit = read_quantity(actual, place)
            with_unit = {"unit": unit} if unit else {}
            reason = property_value(actual, "MaterialActualProperty", SCRAP_REASON_PROPERTY)
            if use in PRODUCED_USES and reason is not None:
                if not reason:
                    raise B2mmlError(f"{place}: the {SCRAP_REASON_PROPERTY} property has no value.")
                if qty > 0:
                    scrap.append({"quantity": qty, "reason": reason, **with_unit})
            elif use in PRODUCED_USES:
                produced.append((qty, unit))
                lots.extend(lot for lot in actual.get("MaterialLotID") or [] if lot not in lots)
            elif use in CONSUMED_USES:
                products = actual.get("MaterialDefinitionID") or []
                if len(products) != 1:
                    raise B2mmlError(f"{place}: a consumed material names exactly one MaterialDefinitionID.")
                consumption.append({"product": products[0], "quantity": qty, **with_unit})
            else:
                raise B2mmlError(
                    f"{place}: MaterialUse '{use}' is not supported; Odoo takes "
                    f"{', '.join(PRODUCED_USES + CONSUMED_USES)}."
                )
    return produced, lots, consumption, scrap


def _operator(segments):
    for segment in segments:
        for personnel in segment.get("PersonnelActual") or []:
            for person in personnel.get("PersonID") or []:
                return person
    return None


def _edge(segments, key, pick):
    """The earliest (``min``) or latest (``max``) time of ``key`` over the segments, as it was written."""
    moments = [segment[key] for segment in segments if segment.get(key)]
    return pick(moments, key=_moment) if moments else None


def _moment(text):
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.astimezone()


# ----------------------------------------------------------------------
# Acknowledges
# ----------------------------------------------------------------------


def acknowledge_performance(original, accepted, reason, sender, bodid, created_at):
    """``AcknowledgeProductionPerformance``: Odoo's answer to a ProductionPerformance document.

    It carries the original ApplicationArea (its BODID tells the MES which
    document this answers), Accepted or Rejected with the reason, and names
    the production responses it is about.
    """
    code = "Accepted" if accepted else "Rejected"
    criteria = {"ResponseExpression": {"actionCode": code}}
    if reason:
        criteria["ChangeStatus"] = {"Code": code, "Reason": reason}
    original_area = original["ApplicationArea"]
    receiver = (original_area.get("Sender") or {}).get("LogicalID")
    return {
        "releaseID": RELEASE_ID,
        "ApplicationArea": application_area(sender, bodid, created_at, receiver=receiver),
        "DataArea": {
            "Acknowledge": {"OriginalApplicationArea": original_area, "ResponseCriteria": [criteria]},
            "ProductionPerformance": [
                {
                    **({"ID": performance["ID"]} if performance.get("ID") else {}),
                    "ProductionResponse": [
                        {"ID": response["ID"], "ProductionRequestID": response["ProductionRequestID"]}
                        for response in performance["ProductionResponse"]
                    ],
                }
                for performance in original["DataArea"]["ProductionPerformance"]
            ],
        },
    }


def schedule_acknowledgement(document):
    """What an ``AcknowledgeProductionSchedule`` from the MES says about one of Odoo's schedules.

    ``{"original_bodid", "outcome" ("Accepted", "Modified" or "Rejected"),
    "reason", "order_refs"}``: rejected when any response criterion rejects.
    """
    data = document["DataArea"]
    acknowledge = data["Acknowledge"]
    criteria = acknowledge.get("ResponseCriteria") or []
    codes = [criterion["ResponseExpression"]["actionCode"] for criterion in criteria]
    outcome = next((code for code in ("Rejected", "Modified") if code in codes), "Accepted")
    reasons = []
    for criterion in criteria:
        status = criterion.get("ChangeStatus") or {}
        for text in (status.get("ReasonCode"), status.get("Reason"), status.get("Description")):
            if text and text not in reasons:
                reasons.append(text)
    order_refs = []
    for schedule in data.get("ProductionSchedule") or []:
        for request in schedule.get("ProductionRequest") or [{"ID": schedule["ID"]}]:
            if request["ID"] not in order_refs:
                order_refs.append(request["ID"])
    return {
        "original_bodid": acknowledge["OriginalApplicationArea"]["BODID"],
        "outcome": outcome,
        "reason": "; ".join(reasons),
        "order_refs": order_refs,
    }
