# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The functional acknowledgement a received interchange is owed, and how one tells what it acknowledges.

A decoded interchange (see ``interchange.Interchange.to_dict``) becomes the
canonical ``acknowledgement`` document that X12 writes as 997 / 999 (one per
functional group, with a TA1 when the interchange itself is at fault) and
EDIFACT as CONTRL. An interchange is accepted or rejected whole: when any
part of it is wrong, every group and transaction is reported rejected, each
with its own problem's code where it has one, so that the partner knows
nothing of it was applied.
"""

INTERCHANGE_CODES = {
    # problem -> (X12 TA105, EDIFACT 0085)
    "sender": ("006", "23"),
    "receiver": ("008", "7"),
    "test": ("020", "25"),
}


def problem(position, level, reason, code):
    """A problem found beyond the envelope (a sender we do not know), shaped as the codecs report theirs."""
    return {"position": position, "segment": 0, "level": level, "reason": reason, "code": code}


def interchange_problem(interchange, kind, reason):
    """A problem of the interchange as a whole, with the code its standard gives ``kind``."""
    x12_code, edifact_code = INTERCHANGE_CODES[kind]
    code = x12_code if interchange["standard"] == "x12" else edifact_code
    return problem("the interchange header", "interchange", reason, code)


def is_rejected(interchange):
    return bool(
        interchange["errors"]
        or any(
            group["errors"] or any(transaction["errors"] for transaction in group["transactions"])
            for group in interchange["groups"]
        )
    )


def acknowledgement_of(interchange):
    """The canonical acknowledgement of a decoded ``interchange`` (problems added by the caller included)."""
    rejected = is_rejected(interchange)
    status = "rejected" if rejected else "accepted"
    values = {
        "document": "acknowledgement",
        "interchange_control_number": interchange["control_number"],
    }
    codes = [error["code"] for error in interchange["errors"]]
    if interchange["standard"] == "x12":
        if interchange["errors"]:
            values.update(
                interchange_date=interchange["date"] or None,
                interchange_status="rejected",
                interchange_code=codes[0],
            )
        values["groups"] = [_group(group, rejected) for group in interchange["groups"] if group["explicit"]]
        return _without_empty(values)
    values.update(
        interchange_sender=interchange["sender"]["id"],
        interchange_receiver=interchange["receiver"]["id"],
        interchange_status=status,
        interchange_code=codes[0] if codes else None,
        transactions=[
            _transaction(transaction, rejected)
            for group in interchange["groups"]
            if not group["explicit"]
            for transaction in group["transactions"]
        ],
        groups=[
            _without_empty(
                {
                    "control_number": group["control_number"],
                    "status": status,
                    "code": _first_code(group["errors"]),
                    "transactions": [_transaction(t, rejected) for t in group["transactions"]],
                }
            )
            for group in interchange["groups"]
            if group["explicit"]
        ],
    )
    return _without_empty(values)


def _group(group, rejected):
    transactions = [_transaction(transaction, rejected) for transaction in group["transactions"]]
    accepted = sum(1 for transaction in transactions if transaction["status"] == "accepted")
    return _without_empty(
        {
            "functional_id": group["functional_id"],
            "control_number": group["control_number"],
            "status": "rejected" if rejected else "accepted",
            "included": len(transactions),
            "received": len(transactions),
            "accepted": accepted,
            "code": _first_code(group["errors"]),
            "transactions": transactions,
        }
    )


def _transaction(transaction, rejected):
    return _without_empty(
        {
            "type": transaction["type"],
            "control_number": transaction["control_number"],
            "status": "rejected" if rejected else "accepted",
            "code": _first_code(transaction["errors"]),
        }
    )


def _first_code(errors):
    return errors[0]["code"] if errors else None


def _without_empty(values):
    return {key: value for key, value in values.items() if value not in (None, "", [])}


def acknowledged(document):
    """What an inbound acknowledgement says: ``[(level, control number, status, code)]``.

    ``level`` is ``interchange``, ``group`` or ``transaction``; X12 names
    groups and transaction sets (and interchanges in a TA1), EDIFACT names
    interchanges and messages. The engine matches each with what it sent.
    """
    found = []
    if document.get("interchange_control_number"):
        found.append(
            (
                "interchange",
                document["interchange_control_number"],
                document.get("interchange_status", "accepted"),
                document.get("interchange_code"),
            )
        )
    for group in document.get("groups") or []:
        if group.get("functional_id"):  # X12 AK1: the group is what a 997 acknowledges
            found.append(("group", group["control_number"], group.get("status"), group.get("code")))
        for transaction in group.get("transactions") or []:
            found.append(_acknowledged_transaction(transaction))
    found += [_acknowledged_transaction(transaction) for transaction in document.get("transactions") or []]
    return found


def _acknowledged_transaction(transaction):
    return ("transaction", transaction["control_number"], transaction.get("status"), transaction.get("code"))
