# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The two kinds of failure the engine tells apart.

A *business* error means the message cannot be applied as it is: a human must
act (create a mapping, fix the payload, correct the order), so the message is
parked in ``exception`` at once. A *technical* error means the same message
may well succeed later (a lock, a timeout, a partner's server down), so it is
retried with backoff. Odoo's own ``UserError`` (and its kinds, such as
``ValidationError``) counts as business: it is Odoo refusing the change, which
retrying will not make it accept. Anything else a processor raises counts as
technical.
"""

from odoo.exceptions import UserError


class IntegrationBusinessError(UserError):
    """The message does not fit the business state; a functional user must act.

    ``records`` (optional: a recordset, or a list of records of several
    models) are the Odoo records the refusal concerns, such as the order a
    confirmation was refused for. The dispatcher links them to the message
    after the attempt is rolled back, so that they show the failure.

    ``reply`` (optional) is what the sender must still be told once the
    attempt is undone: called with the message in the transaction that parks
    it, it stores an answer as an outbound message (an EDI negative
    acknowledgement), which the rollback of the attempt would otherwise
    have taken away.
    """

    def __init__(self, message, records=None, reply=None):
        super().__init__(message)
        self.records = records
        self.reply = reply


class DefinitiveBusinessError(IntegrationBusinessError):
    """The message can never be applied as it is: retrying it unchanged fails the same way.

    For example, a confirmation for an order that was cancelled. The message
    offers no retry until its payload is corrected; people cancel it instead.
    """


class WaitingError(IntegrationBusinessError):
    """The message cannot be applied until something appears in Odoo: it waits, then goes by itself.

    ``res_model`` and ``key`` name what it waits for: an order Odoo does not
    know yet (``mrp.production``, its reference), a record a later message
    creates (bound under ``key``), a mapping. When that appears, the engine
    retries the messages that wait for it, only those, in their company (see
    ``integration.message._wake``). ``wait_kind`` tells a mapping from a record
    and from a change of a record that exists (a hold to be released):
    ``"change"``. For a change, ``is_over(env)`` says whether it has happened:
    the engine asks it once more right after parking the message, in case the
    change was committed while the message was being applied (too late for the
    message to see it, too early for the change to find the message waiting).
    """

    wait_kind = "record"

    def __init__(self, message, res_model, key, records=None, wait_kind=None, is_over=None):
        super().__init__(message, records=records)
        self.res_model = res_model
        self.external_code = key
        self.is_over = is_over
        if wait_kind:
            self.wait_kind = wait_kind


class MissingMappingError(WaitingError):
    """An external code has no canonical mapping yet: creating it retries the messages that wait."""

    wait_kind = "mapping"

    def __init__(self, message, res_model, external_code):
        super().__init__(message, res_model, external_code)


class IntegrationTechnicalError(Exception):
    """A failure worth retrying: the same message may succeed later."""


class PayloadValidationError(UserError):
    """A payload breaks its contract; ``errors`` lists ``(json pointer, reason)``."""

    def __init__(self, message, errors=()):
        super().__init__(message)
        self.errors = list(errors)


class WebhookRefused(Exception):
    """An inbound call is refused: the HTTP status, a machine-readable code and words for people.

    Raised by the webhook model and turned into a JSON answer by the
    controller; ``details`` (a list) and ``headers`` are optional.
    """

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def as_dict(self):
        """The JSON body of the refusal."""
        body = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class Unauthenticated(WebhookRefused):
    """The one answer to a call whose backend or credentials are wrong, whatever was wrong.

    The controller counts it per client address once the request's
    transaction is rolled back, so that guessing gets slower.
    """

    MESSAGE = "The request is not authenticated: check the backend code, the signature headers or the token."

    def __init__(self):
        super().__init__(401, "unauthorized", self.MESSAGE)
