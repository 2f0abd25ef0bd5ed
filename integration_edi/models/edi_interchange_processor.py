# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import copy
import json

from odoo import models
from odoo.exceptions import UserError

from odoo.addons.integration_base.exceptions import DefinitiveBusinessError

from ..lib.acknowledgements import acknowledgement_of, interchange_problem, is_rejected, problem

INTERCHANGE_FLOW = "edi.interchange"


class IntegrationProcessorEdiInterchange(models.AbstractModel):
    """An interchange received from a partner: checked whole, acknowledged, then split into its documents.

    The codec has read the envelopes and documents and recorded every problem
    with its segment; here the interchange is also checked against the
    partner's profile (sender, receiver, test indicator, the documents it
    sends us) and each document against its own contract. Then either all of
    it goes on, each document as a message of its contract (``edi.order``,
    ``edi.acknowledgement``) with the positive acknowledgement sent, or none
    of it does: the interchange waits in exception with every problem in
    words and the partner gets the negative acknowledgement naming them.
    """

    _name = "integration.processor.edi.interchange"
    _inherit = "integration.processor.edi"
    _description = "EDI: interchange received"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        interchange = copy.deepcopy(payload)
        documents = self._check(backend, interchange)
        problems = list(interchange.get("problems") or []) + self._problem_lines(interchange)
        acknowledgement = acknowledgement_of(interchange)
        if is_rejected(interchange):
            raise DefinitiveBusinessError(
                self.env._(
                    "Interchange %(number)s from %(partner)s was rejected whole, nothing of it applied; the "
                    "partner is sent a negative acknowledgement. Ask the partner to send it again "
                    "corrected, then cancel this message.\n%(problems)s",
                    number=interchange["control_number"],
                    partner=backend.partner_id.display_name,
                    problems="\n".join(dict.fromkeys(problems)),
                ),
                reply=lambda parked: self._reply(parked, interchange, acknowledgement, problems),
            )
        created = self.env["integration.message"]
        if self._wants_acknowledgement(interchange):
            created |= self._send_acknowledgement(backend, acknowledgement, message)
        for flow_code, key, document in documents:
            child, _new = self.env["integration.message"]._ingest(
                backend, flow_code, document, idempotency_key=key, parent=message
            )
            created |= child
        settled = self._settle_ta1s(backend, interchange)
        ack_number = self._acknowledgement_number(created)
        received = self.env["integration.edi.interchange"]._record_received(
            backend, interchange, True, ack_number, []
        )
        return received | settled

    def _settle_ta1s(self, backend, interchange):
        """The interchanges we sent that the partner's TA1 segments answer, settled (X12)."""
        Register = self.env["integration.edi.interchange"]
        settled = Register
        for ta1 in interchange.get("interchange_acknowledgements") or []:
            settled |= Register._match_acknowledgement(backend, ta1, interchange["control_number"])
        return settled

    def _reply(self, parked, interchange, acknowledgement, problems):
        """The negative acknowledgement of a rejected interchange, stored with the park."""
        processor = self.with_env(parked.env)
        ack = processor._send_acknowledgement(parked.backend_id, acknowledgement, parked)
        line = processor.env["integration.edi.interchange"]._record_received(
            parked.backend_id, interchange, False, processor._acknowledgement_number(ack), problems
        )
        parked._link_records(line)

    @staticmethod
    def _acknowledgement_number(messages):
        for message in messages:
            if message.flow_code == "edi.acknowledgement":
                return str(json.loads(message.payload).get("#envelope", {}).get("interchange") or "")
        return False

    @staticmethod
    def _wants_acknowledgement(interchange):
        """Every interchange is acknowledged, except one that only acknowledges (never ack an ack)."""
        documents = [t.get("document") or {} for g in interchange["groups"] for t in g["transactions"]]
        if not documents:
            return not interchange.get("interchange_acknowledgements")  # a TA1 alone is an acknowledgement
        return any(document.get("document") != "acknowledgement" for document in documents)

    def _check(self, backend, interchange):
        """Add the profile's and the contracts' problems to ``interchange``; the documents to store."""
        errors = interchange["errors"]
        if backend.edi_partner_id and interchange["sender"]["id"] != backend.edi_partner_id:
            errors.append(
                interchange_problem(
                    interchange,
                    "sender",
                    self.env._(
                        "the sender %(sender)s is not %(partner)s's identifier %(expected)s",
                        sender=interchange["sender"]["id"],
                        partner=backend.partner_id.display_name,
                        expected=backend.edi_partner_id,
                    ),
                )
            )
        if backend.edi_our_id and interchange["receiver"]["id"] != backend.edi_our_id:
            errors.append(
                interchange_problem(
                    interchange,
                    "receiver",
                    self.env._(
                        "the interchange is addressed to %(receiver)s, not to us (%(ours)s)",
                        receiver=interchange["receiver"]["id"],
                        ours=backend.edi_our_id,
                    ),
                )
            )
        if bool(interchange["test"]) != bool(backend.edi_test_mode):
            errors.append(
                interchange_problem(
                    interchange,
                    "test",
                    self.env._(
                        "a test interchange was sent to a partner in production"
                        if interchange["test"]
                        else "a production interchange was sent while the partner is in test mode"
                    ),
                )
            )
        documents = []
        Flow = self.env["integration.flow"]
        for group in interchange["groups"]:
            for transaction in group["transactions"]:
                document = transaction.get("document")
                if document is None:
                    continue
                flow_code = f"edi.{document['document']}"
                try:
                    flow = Flow._contract_in_force(backend, flow_code, "inbound")
                except UserError:  # none in force: the partner may not send us this document
                    transaction["errors"].append(
                        problem(
                            transaction["position"],
                            "transaction",
                            self.env._(
                                "%(partner)s has no contract in force to send us %(type)s documents",
                                partner=backend.partner_id.display_name,
                                type=transaction["type"],
                            ),
                            "1" if interchange["standard"] == "x12" else "2",
                        )
                    )
                    continue
                payload = {**document, "#envelope": self._facts(interchange, group, transaction)}
                for pointer, reason in flow._validation_errors(payload):
                    transaction["errors"].append(
                        problem(
                            transaction["position"],
                            "transaction",
                            f"{pointer or '/'}: {reason}",
                            "5" if interchange["standard"] == "x12" else "12",
                        )
                    )
                key = "/".join(
                    filter(
                        None,
                        (
                            interchange["control_number"],
                            group["control_number"],
                            transaction["control_number"],
                        ),
                    )
                )
                documents.append((flow_code, key, payload))
        return documents

    @staticmethod
    def _facts(interchange, group, transaction):
        """What a document keeps of its envelopes: enough to say what an acknowledgement answers."""
        return {
            "standard": interchange["standard"],
            "interchange": interchange["control_number"],
            "group": group["control_number"],
            "transaction": transaction["control_number"],
            "type": transaction["type"],
            "test": interchange["test"],
        }

    @staticmethod
    def _problem_lines(interchange):
        """The problems added here (the codec's are in ``problems`` already), as lines."""
        added = [e for e in interchange["errors"] if not e["segment"]]
        for group in interchange["groups"]:
            for transaction in group["transactions"]:
                added += [
                    dict(e, position=transaction["position"])
                    for e in transaction["errors"]
                    if not e["segment"]
                ]
        return [f"{error['position']}: {error['reason']}" for error in added]
