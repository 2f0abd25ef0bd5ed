"""Scenario 6: the access matrix, every role against every integration model and operation.

Six roles (the public user, a portal user, an internal user without an
integration group, and integration User, Operator and Manager), each logged
in over JSON-RPC against the real server, try every operation on every
integration model: read, search, write, create, unlink, each public
``action_*`` method, reading a credential's secret, the fields kept for
operators, and the records linked to messages. ``EXPECTED`` below is the
policy as ``integration_base/readme/USAGE.md`` and the groups' descriptions
state it, written down cell by cell: it is not read from the ACLs, so the
test fails the day the ACLs and the policy part.

The models are read from ``ir.model`` and their ``action_*`` methods from the
suite's source, so a new model or a new button without a policy here fails
the scenario until someone writes its row down.

Then isolation: two companies, two plants in the first and one in the
second, each with a backend, contracts, a credential, a mapping, messages
(done, in exception, outbound with a failed delivery), their links and audit
lines, a subscription and a reconciliation. A manager limited to plant A1
sees none of plant A2's or company B's records, of any model; a manager of
company A none of company B's.

The observed matrix is written to ``.local/log/access-matrix.md`` and must
equal ``integration_base/readme/ACCESS.md``, which the README links.
"""

import ast
import json
import os
import time
import uuid
from pathlib import Path

import pytest
from access import ALLOWED, DENIED, REFUSALS, Caller, CallRefused, Counter, ExternalCaller
from scenario import REPO, Figures, sized
from test_engine import create_partner_contract

ROLES = ("public", "portal", "internal", "user", "operator", "manager")
ALL = frozenset({"user", "operator", "manager"})  # any integration group
OPS = frozenset({"operator", "manager"})
MGR = frozenset({"manager"})
NOBODY = frozenset()
CRUD = ("read", "search", "write", "create", "unlink")

# The policy, cell by cell: which roles may do what. The public user, portal users and
# internal users without an integration group may do nothing, so they appear in no cell.
#   User     "sees the integration monitoring: backends, flows, messages and mappings"
#   Operator "resolves exceptions: retries, edits and cancels messages, maintains mappings"
#   Manager  "configures backends, credentials and message contracts"
# plus USAGE.md: only the engine stores messages and changes their state; delivery
# attempts and audit lines are written by the engine only; only a manager activates a
# contract; subscriptions are a manager's configuration; operators review reconciliations;
# a secret is write-only, to everyone; error details and partners' raw answers are for
# managers.
EXPECTED = {
    "integration.backend": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), MGR),
        "action_open_messages": ALL,
        "action_open_health_exceptions": ALL,
        "action_open_health_waiting": ALL,
        "action_open_recent_messages": ALL,
        "action_open_trends": ALL,
        "action_activate": MGR,
        "action_suspend": MGR,
        "action_reset_to_draft": MGR,
        "action_add_contracts": MGR,
        "ingest": OPS,  # "the caller must be an Integration Operator"
        "action_open_edi_interchanges": ALL,
        "action_edi_go_live": MGR,  # leaving test mode is a manager's configuration
    },
    "integration.credential": {
        **dict.fromkeys(CRUD, MGR),
        "read_secret": NOBODY,
    },
    "integration.binding": {
        # External ids the engine keeps for records messages made; a manager may mend one.
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), MGR),
        "action_open_record": ALL,
    },
    "integration.delivery.attempt": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
        "read_response_excerpt": MGR,
    },
    "integration.edi.interchange": {
        # The register of what was exchanged with a trading partner: written by the engine only.
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
        "action_open_document": ALL,
    },
    "integration.event": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), MGR),
    },
    "integration.flow": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), MGR),
        "action_open_health_exceptions": ALL,
        "action_open_health_waiting": ALL,
        "action_open_messages_30d": ALL,
        "action_open_recent_messages": ALL,
        "action_open_sla_breaches": ALL,
        "action_open_trends": ALL,
        "action_activate": MGR,
        "action_deprecate": MGR,
        "action_retire": MGR,
        "action_reset_to_draft": MGR,
    },
    "integration.flow.template": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), MGR),
    },
    "integration.mapping": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), OPS),
    },
    "integration.message": {
        **dict.fromkeys(("read", "search"), ALL),
        "write": OPS,  # the payload of a message in exception, nothing else
        "create": NOBODY,  # stored by the engine only, through a webhook or ingest()
        "unlink": MGR,  # done, cancelled or dead ones
        "action_retry": OPS,
        "action_cancel": OPS,
        "action_create_mapping": OPS,
        "action_open_record": ALL,
        "read_error_detail": MGR,
        "read_linked": ALL,
    },
    "integration.message.audit": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
    },
    "integration.message.link": {
        **dict.fromkeys(("read", "search"), ALL),
        # The trail of what a message touched, written by the engine only, as audit lines are.
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
    },
    "integration.missing.mapping": {
        # The codes that messages in exception wait for, read from the messages themselves.
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
        "action_create_mapping": OPS,
        "action_view_messages": ALL,
    },
    "integration.message.trend": {
        # The messages as figures: read by whoever reads the messages, changed by nobody.
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
        "action_open_message": ALL,
    },
    "integration.plant.health": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), NOBODY),
        "action_open_health_exceptions": ALL,
        "action_open_health_waiting": ALL,
        "action_open_recent_messages": ALL,
        "action_open_trends": ALL,
    },
    "integration.reconciliation": {
        **dict.fromkeys(("read", "search"), ALL),
        "write": OPS,
        **dict.fromkeys(("create", "unlink"), MGR),
        "action_compare_again": OPS,
        "action_mark_reviewed": OPS,
    },
    "integration.reconciliation.line": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create"), OPS),
        "unlink": MGR,
    },
    "integration.subscription": {
        **dict.fromkeys(("read", "search"), ALL),
        **dict.fromkeys(("write", "create", "unlink"), MGR),
    },
}
# Models that hold no company's or plant's data (declarations of the installed connectors).
SHARED_MODELS = frozenset({"integration.event", "integration.flow.template"})
# Where each model's records say their plant; models with a warehouse_id need no entry.
PLANT_PATH = {
    "integration.mapping": "backend_id.warehouse_id",
    "integration.message.link": "message_id.warehouse_id",
    "integration.reconciliation.line": "reconciliation_id.warehouse_id",
    "integration.subscription": "backend_ids.warehouse_id",
}
SECRET = "whsec_" + "YWNjZXNzLW1hdHJpeC1vbmx5LWtleS0xMjM0NTY="
SCHEMA = {"type": "object", "required": ["ref", "name"], "properties": {"ref": {}, "name": {}}}
PASSWORD = "Access-matrix-4-every-role"
DEAD_URL = "http://127.0.0.1:9/"  # the discard port: nobody listens, every delivery fails
MATRIX_LOG = Path(os.environ.get("RELIABILITY_LOG_DIR", REPO / ".local" / "log")) / "access-matrix.md"
MATRIX_README = REPO / "integration_base" / "readme" / "ACCESS.md"
SETTLE_SECONDS = sized(90, 300)


def literal(node):
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None  # a name computed at import time: not one of the suite's models


def action_methods():
    """``{model: {action_* method}}`` declared by the suite's models (their mixins' included)."""
    own, parents = {}, {}
    for path in (*REPO.glob("integration_*/models/*.py"), *REPO.glob("addons/integration_*/models/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            attributes = {
                target.id: statement.value
                for statement in node.body
                if isinstance(statement, ast.Assign)
                for target in statement.targets
                if isinstance(target, ast.Name)
            }
            inherit = attributes.get("_inherit")
            inherited = [] if inherit is None else ast.literal_eval(inherit)
            inherited = [inherited] if isinstance(inherited, str) else inherited
            name = (
                ast.literal_eval(attributes["_name"]) if "_name" in attributes else (inherited or [None])[0]
            )
            if not name:
                continue
            own.setdefault(name, set()).update(
                statement.name
                for statement in node.body
                if isinstance(statement, ast.FunctionDef) and statement.name.startswith("action_")
            )
            parents.setdefault(name, set()).update(parent for parent in inherited if parent != name)

    def methods(model, seen=()):
        found = set(own.get(model, ()))
        for parent in parents.get(model, ()):
            if parent not in seen:
                found |= methods(parent, (*seen, model))
        return found

    return {model: methods(model) for model in own}


class Matrix:
    """The cells of the matrix, each tried once per role, and what Odoo answered."""

    def __init__(self):
        self.observed = {}  # (model, op) -> {role: ALLOWED | DENIED | error}
        self.details = {}  # (model, op, role) -> the refusal or error message

    def record(self, model, op, role, outcome, detail=""):
        self.observed.setdefault((model, op), {})[role] = outcome
        if detail:
            self.details[(model, op, role)] = str(detail)[:300]

    def mismatches(self):
        wrong = []
        for (model, op), by_role in sorted(self.observed.items()):
            for role in ROLES:
                expected = ALLOWED if role in EXPECTED[model][op] else DENIED
                if by_role.get(role) != expected:
                    detail = self.details.get((model, op, role), "")
                    wrong.append(
                        f"{model} {op} as {role}: expected {expected}, got {by_role.get(role)} {detail}"
                    )
        return wrong

    def summary(self):
        """The lines of the table by model and group, which README's "Reliability" shows too."""
        lines = ["| model | user | operator | manager |", "| --- | --- | --- | --- |"]
        for model in sorted({model for model, _op in self.observed}):
            cells = []
            for role in ("user", "operator", "manager"):
                ops = sorted(
                    op
                    for (other, op), by_role in self.observed.items()
                    if other == model and by_role.get(role) == ALLOWED
                )
                cells.append(", ".join(ops) or "—")
            lines.append(f"| `{model}` | " + " | ".join(cells) + " |")
        return lines

    def markdown(self):
        marks = {ALLOWED: "✓", DENIED: "·"}
        lines = [
            "<!-- Generated by tests/reliability/test_access_matrix.py from what the server answered;",
            "     after a change of the policy, copy access-matrix.md of the run's log folder here. -->",
            "",
            "What each integration group may do, model by model (the public user, portal users and",
            "internal users without an integration group may do nothing at all):",
            "",
            *self.summary(),
        ]
        lines += [
            "",
            "Every cell, as the server answered it:",
            "",
            "| model | operation | " + " | ".join(ROLES) + " |",
            "| --- | --- |" + " --- |" * len(ROLES),
        ]
        for (model, op), by_role in sorted(self.observed.items()):
            cells = [marks.get(by_role.get(role), f"error: {by_role.get(role)}") for role in ROLES]
            lines.append(f"| `{model}` | {op} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "✓ the call succeeded; · Odoo refused it (an access error, or a record rule hid the record; "
            "for *read_secret*, the secret never came back in clear). Every refusal was a JSON-RPC error, "
            "never an HTTP 5xx.",
        ]
        return "\n".join(lines) + "\n"


class Scene:
    """The records of both companies and three plants, set up as a manager would, and fresh targets."""

    def __init__(self, admin, run):
        self.admin = admin
        self.run = run
        self.serial = 0

    def unique(self, prefix):
        self.serial += 1
        return f"{prefix}-{self.run}-{self.serial}"

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [row] = self.admin.execute(
            "ir.model.data", "search_read", [["module", "=", module], ["name", "=", name]], fields=["res_id"]
        )
        return row["res_id"]

    def backend(self, company_id, warehouse_id, activate=True, **values):
        code = self.unique("acm")
        backend_id = self.admin.execute(
            "integration.backend",
            "create",
            {
                "name": code,
                "code": code,
                "company_id": company_id,
                "warehouse_id": warehouse_id,
                "rate_limit_per_minute": 0,
                "outbound_url": DEAD_URL,
                "connect_timeout": 1.0,
                **values,
            },
        )
        self.admin.execute(
            "integration.credential", "create", {"backend_id": backend_id, "kind": "hmac", "secret": SECRET}
        )
        if activate:
            self.admin.execute("integration.backend", "action_activate", [backend_id])
        return backend_id

    def flow(self, backend_id, activate=True, **values):
        """The test connector's partner contract (in force unless ``activate`` is false)."""
        flow_id = create_partner_contract(self.admin, backend_id, **{"schema": json.dumps(SCHEMA), **values})
        if not activate:
            self.admin.execute("integration.flow", "action_reset_to_draft", [flow_id])
        return flow_id

    def ingest(self, backend_id, name, flow_code="test.partner", payload=None):
        ref = self.unique("ACM")
        accepted = self.admin.execute(
            "integration.backend",
            "ingest",
            [backend_id],
            flow_code,
            payload or {"ref": ref, "name": name},
            ref,
        )
        return accepted["message_id"]

    def plant(self, label, company_id, warehouse_id, done=1, exceptions=2):
        """One plant's share of every model: what a user of another plant must never see."""
        backend_id = self.backend(company_id, warehouse_id)
        self.flow(backend_id)
        self.flow(backend_id, direction="outbound", retry_backoff_seconds=3600)
        snapshot_flow_id = self.flow(
            backend_id,
            name="Stock snapshot",
            code="stock.snapshot",
            schema=json.dumps({"type": "object"}),
            processor="integration.processor.stock.snapshot",
            idempotency_key_pointer="/snapshot_id",
        )
        country_id = self.admin.execute("res.country", "search", [["code", "=", "FR"]])[0]
        mapping_id = self.admin.execute(
            "integration.mapping",
            "create",
            {
                "backend_id": backend_id,
                "company_id": company_id,
                "external_code": self.unique("FR"),
                "res_model": "res.country",
                "res_id": country_id,
            },
        )
        bound_partner_id = self.admin.execute(
            "res.partner", "create", {"name": f"Bound at {label}", "company_id": company_id}
        )
        self.admin.execute(
            "integration.binding",
            "create",
            {
                "backend_id": backend_id,
                "res_model": "res.partner",
                "res_id": bound_partner_id,
                "external_id": self.unique("EXT"),
            },
        )
        event_id = self.ref("integration_test_connector.integration_event_partner_created")
        ref_prefix = f"ACMOUT{self.run}{label}"
        subscription_id = self.admin.execute(
            "integration.subscription",
            "create",
            {
                "event_id": event_id,
                "flow_code": "test.partner",
                "backend_ids": [(6, 0, [backend_id])],
                "company_id": company_id,
                "domain": f"[('ref', '=like', '{ref_prefix}%')]",
            },
        )
        done = [self.ingest(backend_id, "Fine") for _ in range(done)]
        exceptions = [self.ingest(backend_id, "!refused") for _ in range(exceptions)]
        # A code the plant sent that Odoo does not know: the message waits for its mapping.
        unmapped = self.ingest(
            backend_id,
            None,
            payload={"ref": self.unique("ACM"), "name": "Unmapped", "country": self.unique("ZZ")},
        )
        snapshot = self.ingest(
            backend_id,
            None,
            "stock.snapshot",
            {
                "snapshot_id": self.unique("SNAP"),
                "taken_at": "2025-03-01T06:00:00+01:00",
                "lines": [{"product": "NO-SUCH-PRODUCT", "location": "NO-SUCH-PLACE", "quantity": 1}],
            },
        )
        self.admin.execute(
            "res.partner", "create", {"name": "Told", "ref": f"{ref_prefix}-1", "company_id": company_id}
        )
        edi_backend_id = self.edi_partner(label, company_id, warehouse_id)
        return {
            "company_id": company_id,
            "warehouse_id": warehouse_id,
            "backend_id": backend_id,
            "snapshot_flow_id": snapshot_flow_id,
            "mapping_id": mapping_id,
            "subscription_id": subscription_id,
            "done": done,
            "exceptions": exceptions,
            "unmapped": unmapped,
            "snapshot": snapshot,
            "edi_backend_id": edi_backend_id,
        }

    def edi_partner(self, label, company_id, warehouse_id, live=False):
        """A trading partner's EDI profile at the plant; one empty interchange of it received."""
        partner_id = self.admin.execute(
            "res.partner", "create", {"name": f"Retail {label}", "is_company": True, "company_id": company_id}
        )
        backend_id = self.backend(
            company_id,
            warehouse_id,
            system_type="edi",
            partner_id=partner_id,
            contract_family="x12",
            edi_partner_id="PARTNER",
            edi_our_id="US",
            edi_test_mode=not live,
        )
        self.admin.execute("integration.backend", "action_add_contracts", [backend_id])
        flows = self.admin.execute("integration.flow", "search", [["backend_id", "=", backend_id]])
        self.admin.execute("integration.flow", "action_activate", flows)
        if not live:
            self.ingest(
                backend_id,
                None,
                "edi.interchange",
                {
                    "standard": "x12",
                    "control_number": f"{self.serial:09d}",
                    "sender": {"id": "PARTNER"},
                    "receiver": {"id": "US"},
                    "test": True,
                    "groups": [],
                    "errors": [],
                    "problems": [],
                },
            )
        return backend_id


def wait_for_traffic(database, plants):
    """Until every plant's messages are settled and its outbound message was tried once."""
    backend_ids = [plant["backend_id"] for plant in plants]
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with database.cursor() as cr:
            cr.execute(
                "SELECT count(*) FILTER (WHERE direction = 'inbound'"
                "                          AND state IN ('received', 'queued', 'processing')),"
                "       count(DISTINCT backend_id) FILTER (WHERE direction = 'outbound' AND attempts > 0)"
                "  FROM integration_message WHERE backend_id = ANY(%s)",
                [backend_ids],
            )
            waiting, tried = cr.fetchone()
            cr.execute(
                "SELECT count(DISTINCT backend_id) FROM integration_delivery_attempt"
                " WHERE backend_id = ANY(%s)",
                [backend_ids],
            )
            attempted = cr.fetchone()[0]
        if not waiting and tried == attempted == len(plants):
            return
        time.sleep(0.5)
    raise AssertionError(
        f"traffic not settled in {SETTLE_SECONDS} s: {waiting} waiting, {attempted} attempted"
    )


def wait_for_register(admin, backend_ids):
    """Until each EDI partner's interchange is in the register (the job runner works meanwhile)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        found = admin.execute(
            "integration.edi.interchange",
            "search_read",
            [["backend_id", "in", backend_ids]],
            fields=["backend_id"],
        )
        if {row["backend_id"][0] for row in found} == set(backend_ids):
            return
        time.sleep(0.5)
    raise AssertionError(f"the EDI interchanges were not registered in {SETTLE_SECONDS} s")


def build_world(admin, counter, url, db, database, run):
    """Two companies, three plants with their records, and one user per role; traffic settled."""
    company_a = admin.execute("res.users", "read", [admin.uid], fields=["company_id"])[0]["company_id"][0]
    company_b = admin.execute("res.company", "create", {"name": f"Company B {run}"})
    admin.execute("res.users", "write", [admin.uid], {"company_ids": [(4, company_b)]})
    admin.context = {"allowed_company_ids": [company_a, company_b]}
    [warehouse_a1] = admin.execute("stock.warehouse", "search", [["company_id", "=", company_a]], limit=1)
    warehouse_a2 = admin.execute(
        "stock.warehouse",
        "create",
        {"name": f"Plant A2 {run}", "code": "A2" + run[:3], "company_id": company_a},
    )
    warehouse_b = admin.execute("stock.warehouse", "search", [["company_id", "=", company_b]], limit=1) or [
        admin.execute(
            "stock.warehouse",
            "create",
            {"name": f"Plant B {run}", "code": "B" + run[:4], "company_id": company_b},
        )
    ]
    warehouse_b = warehouse_b[0]
    scene = Scene(admin, run)
    plants = {
        "A1": scene.plant("A1", company_a, warehouse_a1, done=3, exceptions=8),  # the matrix's
        "A2": scene.plant("A2", company_a, warehouse_a2),
        "B": scene.plant("B", company_b, warehouse_b),
    }

    # -- the roles' users, all of company A -----------------------------------------------
    groups = {
        "portal": ["base.group_portal"],
        "internal": ["base.group_user"],
        "user": ["integration_base.group_integration_user"],
        "operator": ["integration_base.group_integration_operator"],
        "manager": ["integration_base.group_integration_manager"],
    }

    def make_user(role, xmlids, **values):
        login = f"acm-{role}-{run}"
        admin.execute(
            "res.users",
            "create",
            {
                "name": f"Access {role}",
                "login": login,
                "password": PASSWORD,
                "company_id": company_a,
                "company_ids": [(6, 0, [company_a])],
                "group_ids": [(6, 0, [scene.ref(xmlid) for xmlid in xmlids])],
                **values,
            },
        )
        return Caller(counter, url, db, login, PASSWORD)

    callers = {role: make_user(role, xmlids) for role, xmlids in groups.items()}
    [public_id] = admin.execute(
        "res.users", "search", [["id", "=", scene.ref("base.public_user")]], context={"active_test": False}
    )
    callers["public"] = Caller(counter, url, db)  # no session: the web client's anonymous visitor
    make_user("manager-a1", groups["manager"], integration_warehouse_ids=[(6, 0, [warehouse_a1])])
    # The plant's manager through the external API, the company's through the web client.
    plant_a1_manager = ExternalCaller(counter, url, db, f"acm-manager-a1-{run}", PASSWORD)

    wait_for_traffic(database, list(plants.values()))
    wait_for_register(admin, [plant["edi_backend_id"] for plant in plants.values()])
    for plant in plants.values():  # an audit line per plant
        admin.execute("integration.message", "action_cancel", [plant["exceptions"].pop()])

    return {
        "scene": scene,
        "plants": plants,
        "callers": callers,
        "plant_a1_manager": plant_a1_manager,
        "public_id": public_id,
        "companies": (company_a, company_b),
    }


def build_cells(world):
    """``{model: {op: (target, call, check)}}``: how each cell is tried, on which record."""
    scene, admin, a1 = world["scene"], world["scene"].admin, world["plants"]["A1"]
    company_a, _company_b = world["companies"]
    warehouse_a1 = a1["warehouse_id"]

    def first(model, domain):
        found = admin.execute(model, "search", domain, limit=1, context={"active_test": False})
        assert found, f"no {model} for {domain}: the scene lacks it"
        return found[0]

    message_done = a1["done"][0]
    message_exception = a1["exceptions"][0]
    link_id = first("integration.message.link", [["message_id", "=", message_done]])
    [linked] = admin.execute("integration.message.link", "read", [link_id], fields=["res_id"])
    attempt_id = first("integration.delivery.attempt", [["backend_id", "=", a1["backend_id"]]])
    audit_id = first("integration.message.audit", [["warehouse_id", "=", warehouse_a1]])
    reconciliation_id = first("integration.reconciliation", [["message_id", "=", a1["snapshot"]]])
    line_id = first("integration.reconciliation.line", [["reconciliation_id", "=", reconciliation_id]])
    health_id = first("integration.plant.health", [["warehouse_id", "=", warehouse_a1]])
    credential_id = first("integration.credential", [["backend_id", "=", a1["backend_id"]]])
    event_id = scene.ref("integration_test_connector.integration_event_partner_created")
    partner_model_id = first("ir.model", [["model", "=", "res.partner"]])
    pools = {"done": list(a1["done"]), "exception": list(a1["exceptions"][1:])}

    def pooled(kind):
        assert pools[kind], f"no more messages {kind} to try: make the pool larger"
        return pools[kind].pop()

    def fresh_backend(activate=False, **values):
        return scene.backend(company_a, warehouse_a1, activate=activate, **values)

    def new_event():
        return admin.execute(
            "integration.event",
            "create",
            {"name": "Access", "code": scene.unique("acm.event"), "model_id": partner_model_id},
        )

    def new_subscription():
        return admin.execute(
            "integration.subscription",
            "create",
            {
                "event_id": event_id,
                "flow_code": "test.partner",
                "backend_ids": [(6, 0, [a1["backend_id"]])],
                "company_id": company_a,
                "domain": "[('ref', '=', 'never')]",
            },
        )

    def new_reconciliation():
        return admin.execute(
            "integration.reconciliation",
            "create",
            {
                "backend_id": a1["backend_id"],
                "flow_id": a1["snapshot_flow_id"],
                "snapshot_ref": scene.unique("S"),
            },
        )

    def seeded_flow():
        return first("integration.flow", [["backend_id", "=", a1["backend_id"]]])

    def new_binding(backend_id=None):
        partner_id = admin.execute("res.partner", "create", {"name": scene.unique("Bound")})
        return admin.execute(
            "integration.binding",
            "create",
            {
                "backend_id": backend_id or a1["backend_id"],
                "res_model": "res.partner",
                "res_id": partner_id,
                "external_id": scene.unique("ACM-B"),
            },
        )

    def new_template():
        return admin.execute("integration.flow.template", "create", template_values())

    def template_values():
        return {"name": "x", "code": scene.unique("acm.t"), "system_type": "generic", "schema": "{}"}

    company_a_partner = admin.execute("res.partner", "create", {"name": "Bound by managers"})
    binding_id = new_binding()
    template_id = new_template()

    line_values = {"external_product_code": "X", "external_location_code": "Y", "external_qty": 1}

    # Each cell: (target, method, args, kwargs, succeeded). ``target`` makes the record the
    # cell acts on; a cell that succeeds spends it, the next role gets a new one.
    def creating(values):
        return (lambda: None, lambda _target: ("create", (values(),), {}), None)

    def on(target, method, *args, check=None, **kwargs):
        return (target, lambda record: (method, ([record], *args), kwargs), check)

    def seed(record_id):
        return lambda: record_id

    def found(record_id):
        return lambda result: record_id in result

    cells = {
        "integration.binding": {
            "write": on(new_binding, "write", {"external_id": scene.unique("ACM-W")}),
            "create": (
                lambda: None,
                lambda _target: (
                    "create",
                    (
                        {
                            "backend_id": fresh_backend(),
                            "res_model": "res.partner",
                            "res_id": company_a_partner,
                            "external_id": "ACM-C",
                        },
                    ),
                    {},
                ),
                None,
            ),
            "unlink": on(new_binding, "unlink"),
            "action_open_record": on(seed(binding_id), "action_open_record"),
        },
        "integration.flow.template": {
            "write": on(new_template, "write", {"name": "checked"}),
            "create": creating(template_values),
            "unlink": on(new_template, "unlink"),
        },
        "integration.backend": {
            "write": on(seed(a1["backend_id"]), "write", {"note": "<p>checked</p>"}),
            "create": creating(
                lambda: {"name": "x", "code": scene.unique("acmc"), "warehouse_id": warehouse_a1}
            ),
            "unlink": on(fresh_backend, "unlink"),
            "action_open_messages": on(seed(a1["backend_id"]), "action_open_messages"),
            "action_open_health_exceptions": on(seed(a1["backend_id"]), "action_open_health_exceptions"),
            "action_open_health_waiting": on(seed(a1["backend_id"]), "action_open_health_waiting"),
            "action_open_recent_messages": on(seed(a1["backend_id"]), "action_open_recent_messages"),
            "action_open_trends": on(seed(a1["backend_id"]), "action_open_trends"),
            "action_activate": on(fresh_backend, "action_activate"),
            "action_suspend": on(lambda: fresh_backend(activate=True), "action_suspend"),
            "action_reset_to_draft": on(lambda: fresh_backend(activate=True), "action_reset_to_draft"),
            "ingest": on(
                seed(a1["backend_id"]), "ingest", "test.partner", {"ref": "ACM-ingest", "name": "Fine"}
            ),
        },
        "integration.credential": {
            "write": on(seed(credential_id), "write", {"login": "checked"}),
            "create": (
                fresh_backend,
                lambda backend: (
                    "create",
                    ({"backend_id": backend, "kind": "token", "secret": "x" * 32},),
                    {},
                ),
                None,
            ),
            "unlink": on(
                lambda: first("integration.credential", [["backend_id", "=", fresh_backend()]]), "unlink"
            ),
            "read_secret": on(
                seed(credential_id), "read", ["secret"], check=lambda result: result[0]["secret"] == SECRET
            ),
        },
        "integration.delivery.attempt": {
            "write": on(seed(attempt_id), "write", {"error": "checked"}),
            "create": creating(lambda: {"message_id": message_done, "outcome": "retry"}),
            "unlink": on(seed(attempt_id), "unlink"),
            "read_response_excerpt": on(seed(attempt_id), "read", ["response_excerpt"]),
        },
        "integration.event": {
            "write": on(seed(event_id), "write", {"description": "Raised for every new partner."}),
            "create": creating(
                lambda: {"name": "x", "code": scene.unique("acm.c"), "model_id": partner_model_id}
            ),
            "unlink": on(new_event, "unlink"),
        },
        "integration.flow": {
            "write": on(
                lambda: first("integration.flow", [["backend_id", "=", a1["backend_id"]]]),
                "write",
                {"description": "<p>checked</p>"},
            ),
            "create": creating(
                lambda: {
                    "name": "x",
                    "code": scene.unique("acm.flow"),
                    "backend_id": a1["backend_id"],
                    "schema": json.dumps(SCHEMA),
                }
            ),
            "unlink": on(
                lambda: scene.flow(a1["backend_id"], activate=False, code=scene.unique("acm.u")), "unlink"
            ),
            "action_activate": on(
                lambda: scene.flow(a1["backend_id"], activate=False, code=scene.unique("acm.a")),
                "action_activate",
            ),
            "action_open_health_exceptions": on(seeded_flow, "action_open_health_exceptions"),
            "action_open_health_waiting": on(seeded_flow, "action_open_health_waiting"),
            "action_open_messages_30d": on(seeded_flow, "action_open_messages_30d"),
            "action_open_recent_messages": on(seeded_flow, "action_open_recent_messages"),
            "action_open_sla_breaches": on(seeded_flow, "action_open_sla_breaches"),
            "action_open_trends": on(seeded_flow, "action_open_trends"),
            "action_deprecate": on(
                lambda: scene.flow(a1["backend_id"], code=scene.unique("acm.d")), "action_deprecate"
            ),
            "action_retire": on(
                lambda: scene.flow(a1["backend_id"], code=scene.unique("acm.r")), "action_retire"
            ),
            "action_reset_to_draft": on(
                lambda: scene.flow(a1["backend_id"], code=scene.unique("acm.t")), "action_reset_to_draft"
            ),
        },
        "integration.mapping": {
            "write": on(seed(a1["mapping_id"]), "write", {"active": True}),
            "create": creating(
                lambda: {
                    "backend_id": a1["backend_id"],
                    "company_id": company_a,
                    "external_code": scene.unique("M"),
                    "res_model": "res.partner",
                    "res_id": linked["res_id"],
                }
            ),
            "unlink": on(
                lambda: admin.execute(
                    "integration.mapping", "copy", a1["mapping_id"], {"external_code": scene.unique("U")}
                )[0],
                "unlink",
            ),
        },
        "integration.message": {
            "write": on(
                seed(message_exception),
                "write",
                {"payload_text": json.dumps({"ref": "ACM-edit", "name": "!edited"})},
            ),
            "create": creating(
                lambda: {
                    "backend_id": a1["backend_id"],
                    "flow_code": "test.partner",
                    "payload": "{}",
                    "idempotency_key": scene.unique("forged"),
                }
            ),
            "unlink": on(lambda: pooled("done"), "unlink"),
            "action_retry": on(lambda: pooled("exception"), "action_retry"),
            "action_cancel": on(lambda: pooled("exception"), "action_cancel"),
            "action_create_mapping": on(seed(a1["unmapped"]), "action_create_mapping"),
            "action_open_record": on(seed(message_done), "action_open_record"),
            "read_error_detail": on(seed(message_exception), "read", ["error_detail"]),
            "read_linked": on(
                seed(message_done),
                "read",
                ["link_ids"],
                check=lambda result: link_id in result[0]["link_ids"],
            ),
        },
        # A code waiting for its mapping is named by its (first) waiting message.
        "integration.missing.mapping": {
            "write": on(seed(a1["unmapped"]), "write", {"missing_code": "forged"}),
            "create": creating(lambda: {"missing_code": "forged"}),
            "unlink": on(seed(a1["unmapped"]), "unlink"),
            "action_create_mapping": on(seed(a1["unmapped"]), "action_create_mapping"),
            "action_view_messages": on(seed(a1["unmapped"]), "action_view_messages"),
        },
        "integration.message.audit": {
            "write": on(seed(audit_id), "write", {"note": "checked"}),
            "create": creating(lambda: {"message_id": message_done, "action": "retry"}),
            "unlink": on(seed(audit_id), "unlink"),
        },
        "integration.message.link": {
            "write": on(seed(link_id), "write", {"res_model": "res.partner"}),
            "create": creating(
                lambda: {"message_id": message_done, "res_model": "res.partner", "res_id": linked["res_id"]}
            ),
            "unlink": on(seed(link_id), "unlink"),
        },
        "integration.plant.health": {
            "write": on(seed(health_id), "write", {"backend_count": 0}),
            "create": creating(lambda: {"warehouse_id": warehouse_a1}),
            "unlink": on(seed(health_id), "unlink"),
            "action_open_health_exceptions": on(seed(health_id), "action_open_health_exceptions"),
            "action_open_health_waiting": on(seed(health_id), "action_open_health_waiting"),
            "action_open_recent_messages": on(seed(health_id), "action_open_recent_messages"),
            "action_open_trends": on(seed(health_id), "action_open_trends"),
        },
        # A trend row is its message (same id).
        "integration.message.trend": {
            "write": on(seed(message_done), "write", {"latency": 0}),
            "create": creating(lambda: {"message_id": message_done}),
            "unlink": on(seed(message_done), "unlink"),
            "action_open_message": on(seed(message_done), "action_open_message"),
        },
        "integration.reconciliation": {
            "write": on(seed(reconciliation_id), "write", {"state": "to_review"}),
            "create": creating(
                lambda: {
                    "backend_id": a1["backend_id"],
                    "flow_id": a1["snapshot_flow_id"],
                    "snapshot_ref": scene.unique("C"),
                }
            ),
            "unlink": on(new_reconciliation, "unlink"),
            "action_compare_again": on(seed(reconciliation_id), "action_compare_again"),
            "action_mark_reviewed": on(seed(reconciliation_id), "action_mark_reviewed"),
        },
        "integration.reconciliation.line": {
            "write": on(seed(line_id), "write", {"external_qty": 1}),
            "create": creating(lambda: {"reconciliation_id": reconciliation_id, **line_values}),
            "unlink": on(
                lambda: admin.execute(
                    "integration.reconciliation.line",
                    "create",
                    {"reconciliation_id": reconciliation_id, **line_values},
                ),
                "unlink",
            ),
        },
        "integration.subscription": {
            "write": on(seed(a1["subscription_id"]), "write", {"active": True}),
            "create": creating(
                lambda: {
                    "event_id": event_id,
                    "flow_code": "test.partner",
                    "backend_ids": [(6, 0, [a1["backend_id"]])],
                    "company_id": company_a,
                    "domain": "[('ref', '=', 'never')]",
                }
            ),
            "unlink": on(new_subscription, "unlink"),
        },
    }
    register_id = first("integration.edi.interchange", [["backend_id", "=", a1["edi_backend_id"]]])
    cells["integration.edi.interchange"] = {
        "write": on(seed(register_id), "write", {"problems": "checked"}),
        "create": creating(
            lambda: {
                "backend_id": a1["edi_backend_id"],
                "direction": "sent",
                "document": "invoice",
                "control_number": scene.unique("9"),
            }
        ),
        "unlink": on(seed(register_id), "unlink"),
        "action_open_document": on(seed(register_id), "action_open_document"),
    }
    cells["integration.backend"]["action_open_edi_interchanges"] = on(
        seed(a1["edi_backend_id"]), "action_open_edi_interchanges"
    )
    cells["integration.backend"]["action_edi_go_live"] = on(
        lambda: scene.edi_partner("live", company_a, warehouse_a1, live=True), "action_edi_go_live"
    )
    cells["integration.backend"]["action_add_contracts"] = on(
        lambda: fresh_backend(system_type="mes"), "action_add_contracts"
    )
    seeds = {
        "integration.binding": binding_id,
        "integration.flow.template": template_id,
        "integration.backend": a1["backend_id"],
        "integration.credential": credential_id,
        "integration.delivery.attempt": attempt_id,
        "integration.edi.interchange": register_id,
        "integration.event": event_id,
        "integration.flow": first("integration.flow", [["backend_id", "=", a1["backend_id"]]]),
        "integration.mapping": a1["mapping_id"],
        "integration.message": message_done,
        "integration.message.audit": audit_id,
        "integration.message.link": link_id,
        "integration.missing.mapping": a1["unmapped"],
        "integration.message.trend": message_done,
        "integration.plant.health": health_id,
        "integration.reconciliation": reconciliation_id,
        "integration.reconciliation.line": line_id,
        "integration.subscription": a1["subscription_id"],
    }
    for model, record_id in seeds.items():
        cells[model].setdefault("read", on(seed(record_id), "read"))
        cells[model].setdefault(
            "search",
            (lambda: None, lambda _t, r=record_id: ("search", ([["id", "=", r]],), {}), found(record_id)),
        )

    return cells


def suite_models(admin, cells):
    """The suite's concrete models, each with its policy and its cells written down."""
    # -- every model of the suite has its policy written down ---------------------------------
    models = sorted(
        row["model"]
        for row in admin.execute(
            "ir.model",
            "search_read",
            [["model", "=like", "integration.%"], ["abstract", "=", False], ["transient", "=", False]],
            fields=["model"],
        )
    )
    assert sorted(EXPECTED) == models, f"write down the policy of {set(models) ^ set(EXPECTED)}"
    declared = action_methods()
    for model in models:
        actions = {op for op in EXPECTED[model] if op.startswith("action_")}
        assert declared.get(model, set()) == actions, (
            f"{model}: actions in the code {sorted(declared.get(model, ()))}, in the policy {sorted(actions)}"
        )
        assert set(cells[model]) == set(EXPECTED[model]), (
            f"{model}: cells {set(cells[model]) ^ set(EXPECTED[model])}"
        )

    return models


def run_matrix(models, cells, callers):
    """Every cell tried by every role, in order from the least allowed: a success spends its record."""
    matrix = Matrix()
    for model in models:
        for op, (target, call, check) in sorted(cells[model].items()):
            record = None
            for role in ROLES:
                if record is None:
                    record = target()
                method, args, kwargs = call(record)
                outcome, result = callers[role].attempt(model, method, *args, **kwargs)
                if outcome == ALLOWED and check and not check(result):
                    outcome, result = DENIED, "answered, without the record or the secret"
                matrix.record(model, op, role, outcome, "" if outcome == ALLOWED else result)
                if outcome == ALLOWED:
                    record = None  # spent: the next role gets a record of its own
    MATRIX_LOG.parent.mkdir(parents=True, exist_ok=True)
    MATRIX_LOG.write_text(matrix.markdown(), encoding="utf-8")

    return matrix


def anonymous_refusals(counter, url, db, public_id, models):
    """The public user, through the external API without a password: how many models refused it."""
    anonymous = ExternalCaller(counter, url, db, "public", "", uid=public_id)
    anonymous_refused = 0
    for model in models:
        try:
            anonymous.execute(model, "search_read", [], fields=["id"])
        except CallRefused as error:
            anonymous_refused += error.name in REFUSALS
    return anonymous_refused


def isolation_leaks(admin, models, world):
    """What a manager of plant A1, and one of company A, see of the other plants' and company's records."""
    plants, callers = world["plants"], world["callers"]
    company_a, company_b = world["companies"]
    plant_a1_manager = world["plant_a1_manager"]
    leaks = []
    viewers = {
        "manager of plant A1": (plant_a1_manager, ("A2", "B")),
        "manager of company A": (callers["manager"], ("B",)),
    }
    for model in models:
        if model in SHARED_MODELS:
            continue
        path = PLANT_PATH.get(model, "warehouse_id")
        ids = {
            label: admin.execute(
                model, "search", [[path, "=", plant["warehouse_id"]]], context={"active_test": False}
            )
            for label, plant in plants.items()
        }
        assert all(ids.values()), f"{model}: the scene has no records in some plant: {ids}"
        for viewer_name, (viewer, foreign) in viewers.items():
            own = [record_id for label in ("A1", "A2") if label not in foreign for record_id in ids[label]]
            seen_own = viewer.execute(model, "search", [["id", "in", own]], context={"active_test": False})
            if sorted(seen_own) != sorted(own):
                leaks.append(f"{viewer_name} misses {len(own) - len(seen_own)} of its own {model}")
            for label in foreign:
                seen = viewer.execute(
                    model, "search", [["id", "in", ids[label]]], context={"active_test": False}
                )
                outcome, _result = viewer.attempt(model, "read", ids[label], ["display_name"])
                if seen or outcome == ALLOWED:
                    leaks.append(f"{viewer_name} sees {len(seen)} {model} of plant {label} (read: {outcome})")
        # Asking for company B's context does not open it either.
        outcome, seen = callers["manager"].attempt(
            model, "search", [["id", "in", ids["B"]]], context={"allowed_company_ids": [company_a, company_b]}
        )
        if outcome == ALLOWED and seen:
            leaks.append(f"manager of company A sees {model} of company B by asking for its context")

    return leaks


def test_every_role_gets_exactly_the_allowed_cells(node, database, scenario_database):
    counter = Counter()
    started = time.monotonic()
    url, db = node.url, scenario_database
    admin = Caller(counter, url, db, "admin", "admin")
    world = build_world(admin, counter, url, db, database, uuid.uuid4().hex[:6])
    set_up = time.monotonic()
    cells = build_cells(world)
    models = suite_models(admin, cells)
    matrix = run_matrix(models, cells, world["callers"])
    tried = time.monotonic()
    anonymous_refused = anonymous_refusals(counter, url, db, world["public_id"], models)
    leaks = isolation_leaks(admin, models, world)

    cells_tried = sum(len(by_role) for by_role in matrix.observed.values())
    allowed = sum(outcome == ALLOWED for by_role in matrix.observed.values() for outcome in by_role.values())
    Figures(
        "access matrix",
        requests=counter.requests,
        server_errors=counter.server_errors,
        notes={
            "models": len(models),
            "cells": cells_tried,
            "allowed": allowed,
            "refused": cells_tried - allowed,
            "anonymous refused": f"{anonymous_refused}/{len(models)}",
            "leaks": len(leaks),
            "seconds to set up": round(set_up - started),
            "seconds of matrix": round(tried - set_up),
            "seconds of isolation": round(time.monotonic() - tried),
        },
    ).check()
    assert not matrix.mismatches(), "cells that differ from the policy:\n" + "\n".join(matrix.mismatches())
    assert anonymous_refused == len(models), "the web client answered a caller without a session"
    assert not leaks, "records seen across plants or companies:\n" + "\n".join(leaks)
    committed = MATRIX_README.read_text(encoding="utf-8") if MATRIX_README.exists() else ""
    if committed != matrix.markdown():
        pytest.fail(
            f"{MATRIX_README.relative_to(REPO)} is not the matrix observed: copy {MATRIX_LOG} over it"
        )
    if "\n".join(matrix.summary()) not in (REPO / "README.md").read_text(encoding="utf-8"):
        pytest.fail(f"README.md's access table is not the one observed: copy the first table of {MATRIX_LOG}")
