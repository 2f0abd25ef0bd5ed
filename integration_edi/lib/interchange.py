# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The canonical interchange both standards decode to, and the checks of its envelopes.

An interchange (ISA...IEA, UNB...UNZ) holds groups (GS...GE, UNG...UNE; an
EDIFACT interchange without groups gets one implicit group) holding
transactions (ST...SE, UNH...UNT). Each standard's module reads its headers
and trailers into this one shape; the nesting, the counts and the control
numbers are then checked here once, and every problem is recorded with the
segment it is at, the level it concerns and the code the standard's
acknowledgement gives it. An interchange with problems is still decoded
whole: the engine keeps it, rejects it with a negative acknowledgement that
names them, and applies none of it.
"""

from dataclasses import dataclass, field

from . import tables


@dataclass
class Transaction:
    type: str
    control_number: str
    header: object  # the ST / UNH segment
    version: str = ""
    segments: list = field(default_factory=list)  # between header and trailer
    trailer: object = None
    errors: list = field(default_factory=list)

    def to_dict(self):
        return {
            "type": self.type,
            "version": self.version,
            "control_number": self.control_number,
            "position": self.header.position,
            "status": "rejected" if self.errors else "accepted",
            "errors": self.errors,
        }


@dataclass
class Group:
    functional_id: str
    control_number: str
    header: object = None  # None: EDIFACT messages outside UNG/UNE
    version: str = ""
    sender: str = ""
    receiver: str = ""
    transactions: list = field(default_factory=list)
    trailer: object = None
    errors: list = field(default_factory=list)

    def to_dict(self):
        rejected = self.errors or any(t.errors for t in self.transactions)
        accepted = sum(1 for t in self.transactions if not t.errors)
        return {
            "functional_id": self.functional_id,
            "control_number": self.control_number,
            "version": self.version,
            "explicit": self.header is not None,
            "status": ("partially_accepted" if accepted else "rejected") if rejected else "accepted",
            "transactions": [t.to_dict() for t in self.transactions],
            "errors": self.errors,
        }


@dataclass
class Interchange:
    standard: str
    control_number: str
    header: object
    sender: dict
    receiver: dict
    version: str = ""
    test: bool = False
    date: str = ""
    groups: list = field(default_factory=list)
    trailer: object = None
    errors: list = field(default_factory=list)
    acknowledgements: list = field(default_factory=list)  # X12 TA1: interchanges this one acknowledges
    delimiters: object = None

    def problems(self):
        """Every error of the interchange, its groups and transactions, in file order."""
        found = list(self.errors)
        for group in self.groups:
            found += group.errors
            for transaction in group.transactions:
                found += transaction.errors
        return sorted(found, key=lambda error: error["segment"])

    def decoded(self, tables_by_type, syntax):
        """The interchange as the engine stores it, each transaction read by its table of ``tables_by_type``.

        A transaction of a type without a table, or one its table finds
        incomplete, is a problem of that transaction.
        """
        documents = {}
        for group in self.groups:
            for transaction in group.transactions:
                documents[id(transaction)] = self._read_document(transaction, tables_by_type, syntax)
        return self.to_dict(documents)

    def _read_document(self, transaction, tables_by_type, syntax):
        table = tables_by_type.get(transaction.type)
        if table is None:
            reason = f"documents of type {transaction.type} are not supported"
            transaction.errors.append(
                error(transaction.header, "transaction", reason, syntax.codes["not_supported"])
            )
            return None
        values, problems = tables.read(table, transaction.segments, self.delimiters.decimal)
        transaction.errors += [
            error(transaction.header, "transaction", problem, syntax.codes["document"])
            for problem in problems
        ]
        return values

    def to_dict(self, documents):
        """The interchange as the engine stores it; ``documents`` maps a transaction to its reading."""
        groups = []
        for group in self.groups:
            values = group.to_dict()
            for transaction, entry in zip(group.transactions, values["transactions"], strict=True):
                entry["document"] = documents.get(id(transaction))
            groups.append(values)
        problems = self.problems()
        return {
            "standard": self.standard,
            "version": self.version,
            "control_number": self.control_number,
            "sender": self.sender,
            "receiver": self.receiver,
            "test": self.test,
            "date": self.date,
            "status": "rejected" if problems else "accepted",
            "groups": groups,
            "interchange_acknowledgements": self.acknowledgements,
            "errors": self.errors,
            "problems": [f"{error['position']}: {error['reason']}" for error in problems],
        }


def error(segment, level, reason, code, number=None):
    """One problem of an envelope, at ``segment`` (or at the end of the file when ``number`` is given)."""
    position = segment.position if segment is not None else f"segment {number} (end of file)"
    return {
        "position": position,
        "segment": segment.number if segment is not None else number,
        "level": level,
        "reason": reason,
        "code": code,
    }


@dataclass(frozen=True)
class Syntax:
    """What one standard calls its envelope segments, how it reads their headers, and its problem codes.

    ``codes`` maps the problems :func:`check_structure` finds (``interchange_count``,
    ``interchange_reference``, ``interchange_trailer``, ``structure``,
    ``group_count``, ``group_reference``, ``group_trailer``,
    ``transaction_count``, ``transaction_reference``, ``transaction_trailer``)
    to the code the standard's acknowledgement gives them.
    """

    interchange_trailer: str
    group_header: str
    group_trailer: str
    transaction_header: str
    transaction_trailer: str
    group_fields: dict  # Group field -> where its header holds it (see header_values)
    transaction_fields: dict
    codes: dict
    implicit_groups: bool = False  # EDIFACT: messages may stand outside UNG/UNE
    ignored: tuple = ()  # segments allowed between groups (X12 TA1)


def header_values(segment, positions):
    """``{field: value}`` of a header: each field at an element, or at components joined by ``:``."""
    values = {}
    for name, where in positions.items():
        parts = [segment.element(*place) for place in (where if isinstance(where, list) else [where])]
        values[name] = ":".join(part for part in parts if part)
    return values


def check_structure(found, segments, syntax, end_number):
    """Nest ``segments`` (after the interchange header) into ``found``, recording every problem.

    Counts and control numbers of each trailer are compared with what it
    closes; a header opening before the previous level closed, a trailer
    without its header, a segment outside any transaction, and a missing
    trailer are problems of the level they break. ``end_number`` is the
    number a missing trailer is reported at (after the last segment).
    """
    nesting = _Nesting(found, syntax, end_number)
    for segment in segments:
        if segment.tag == syntax.interchange_trailer:
            nesting.close_interchange(segment)
            break
        nesting.take(segment)
    nesting.close_transaction(None)
    nesting.close_group(None)
    nesting.check_interchange_trailer()
    return found


class _Nesting:
    """The walk of :func:`check_structure`: which group and transaction are open at each segment."""

    def __init__(self, found, syntax, end_number):
        self.found, self.syntax, self.codes, self.end_number = found, syntax, syntax.codes, end_number
        self.group = self.transaction = self.implicit = None
        self.handlers = {
            syntax.group_header: self.open_group,
            syntax.group_trailer: self.end_group,
            syntax.transaction_header: self.open_transaction,
            syntax.transaction_trailer: self.end_transaction,
        }

    def problem(self, segment, reason):
        self.found.errors.append(error(segment, "interchange", reason, self.codes["structure"]))

    def take(self, segment):
        handler = self.handlers.get(segment.tag)
        if handler:
            handler(segment)
        elif self.transaction is not None:
            self.transaction.segments.append(segment)
        elif segment.tag not in self.syntax.ignored:
            self.problem(segment, "this segment stands outside any message")

    def close_transaction(self, at):
        transaction = self.transaction
        if transaction is not None and transaction.trailer is None:
            reason = f"message {transaction.control_number} has no {self.syntax.transaction_trailer} trailer"
            transaction.errors.append(
                error(at, "transaction", reason, self.codes["transaction_trailer"], self.end_number)
            )
        self.transaction = None

    def close_group(self, at):
        group = self.group
        if group is not None and group.trailer is None:
            reason = f"group {group.control_number} has no {self.syntax.group_trailer} trailer"
            group.errors.append(error(at, "group", reason, self.codes["group_trailer"], self.end_number))
        self.group = None

    def open_group(self, segment):
        self.close_transaction(segment)
        self.close_group(segment)
        self.group = Group(header=segment, **header_values(segment, self.syntax.group_fields))
        self.found.groups.append(self.group)

    def end_group(self, segment):
        self.close_transaction(segment)
        group = self.group
        if group is None:
            self.problem(segment, "this trailer closes nothing that is open")
            return
        group.trailer = segment
        self.check_trailer(
            segment, "group", len(group.transactions), "messages", group.control_number, group.errors
        )
        self.group = None

    def open_transaction(self, segment):
        self.close_transaction(segment)
        owner = self.group
        if owner is None:
            if not self.syntax.implicit_groups:
                self.problem(segment, f"this header stands outside any group ({self.syntax.group_header})")
            if self.implicit is None:
                self.implicit = Group(functional_id="", control_number="", header=None)
                self.found.groups.append(self.implicit)
            owner = self.implicit
        values = header_values(segment, self.syntax.transaction_fields)
        self.transaction = Transaction(
            header=segment, **{**values, "version": values["version"] or owner.version}
        )
        owner.transactions.append(self.transaction)

    def end_transaction(self, segment):
        transaction = self.transaction
        if transaction is None:
            self.problem(segment, "this trailer closes nothing that is open")
            return
        transaction.trailer = segment
        self.check_trailer(
            segment,
            "transaction",
            len(transaction.segments) + 2,
            "segments",
            transaction.control_number,
            transaction.errors,
        )
        self.transaction = None

    def check_trailer(self, trailer, level, counted, what, reference, errors):
        """The count and the control number a trailer declares, against what it closes."""
        declared, given = trailer.element(1), trailer.element(2)
        if declared.strip() != str(counted):
            reason = f"the trailer counts {declared or 'nothing'} {what}, there are {counted}"
            errors.append(error(trailer, level, reason, self.codes[f"{level}_count"]))
        if given.strip() != (reference or "").strip():
            name = "control reference" if level == "interchange" else "reference"
            reason = f"the trailer's {name} {given or '(none)'} is not the header's {reference}"
            errors.append(error(trailer, level, reason, self.codes[f"{level}_reference"]))

    def close_interchange(self, segment):
        self.close_transaction(segment)
        self.close_group(segment)
        self.found.trailer = segment

    def check_interchange_trailer(self):
        found, implicit = self.found, self.implicit
        explicit = [group for group in found.groups if group.header is not None]
        if self.syntax.implicit_groups and implicit is not None and explicit:
            self.problem(implicit.transactions[0].header, "messages stand both inside and outside groups")
        trailer = found.trailer
        if trailer is None:
            reason = f"interchange {found.control_number} has no {self.syntax.interchange_trailer} trailer"
            found.errors.append(
                error(None, "interchange", reason, self.codes["interchange_trailer"], self.end_number)
            )
            return
        counted = len(explicit) if explicit or not implicit else len(implicit.transactions)
        self.check_trailer(
            trailer,
            "interchange",
            counted,
            "groups" if explicit else "messages",
            found.control_number,
            found.errors,
        )
