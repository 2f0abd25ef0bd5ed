# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plain unit tests of the engine's helpers: no database needed."""

import json
from types import SimpleNamespace

import psycopg2

from odoo.service import server
from odoo.tests import BaseCase, tagged

from odoo.addons.integration_base.lib import prefork_resilience, strict_json
from odoo.addons.integration_base.lib.json_contract import (
    format_errors,
    parse_schema,
    resolve_pointer,
    to_pointer,
    validation_errors,
)
from odoo.addons.integration_base.lib.secret_box import (
    MasterKeyError,
    SecretBox,
    generate_key,
    master_keys_from,
)
from odoo.addons.integration_base.lib.transports import DELIVERED, REFUSED, RETRY
from odoo.addons.integration_base.lib.transports.http import outcome_of_status, retry_after_seconds


@tagged("post_install", "-at_install")
class TestStrictJson(BaseCase):
    def assertRefused(self, body, reason, pointer=None):
        with self.assertRaises(strict_json.JsonRefused) as caught:
            strict_json.loads(body)
        self.assertIn(reason, caught.exception.reason)
        self.assertEqual(caught.exception.pointer, pointer)

    def test_what_python_accepts_and_json_does_not(self):
        self.assertRefused(b'{"a": [1, NaN]}', "NaN is not a JSON number")
        self.assertRefused(b'{"a": Infinity}', "Infinity is not a JSON number")
        self.assertRefused(b'{"a": 1e400}', "out of range", "/a")
        self.assertRefused(b'{"a": {"b": "x\\u0000"}}', "NUL character", "/a/b")
        self.assertRefused(b'{"\\ud800": 1}', "lone surrogate", "")
        self.assertRefused(b"\xff", "not UTF-8")
        self.assertRefused(b"\xef\xbb\xbf{}", "byte order mark")
        self.assertRefused(b'{"a": ' + b"9" * 41 + b"}", "more than 40 characters")
        self.assertRefused(
            b"[" * 33 + b"]" * 33,
            "nested deeper than 32 levels",
            "/0" * 32,
        )
        self.assertRefused(b"[" * 100000 + b"]" * 100000, "nested deeper")
        self.assertRefused(json.dumps({"k" * 257: 1}).encode(), "longer than 256 characters", "")

    def test_plain_documents_pass_and_dump_canonically(self):
        document = strict_json.loads(b'{"b": [1, 2.5, "\\u00e9"], "a": null}')
        self.assertEqual(document, {"a": None, "b": [1, 2.5, "é"]})
        self.assertEqual(strict_json.dumps(document), '{"a":null,"b":[1,2.5,"é"]}')
        deepest_allowed = []
        for _level in range(31):
            deepest_allowed = [deepest_allowed]
        self.assertEqual(strict_json.loads(b"[" * 32 + b"]" * 32), deepest_allowed)


@tagged("post_install", "-at_install")
class TestJsonContract(BaseCase):
    def test_formats_are_enforced(self):
        schema = '{"properties": {"at": {"type": "string", "format": "date-time"}}}'
        self.assertEqual(validation_errors({"at": "2026-12-01T10:00:00Z"}, schema), [])
        self.assertEqual(
            validation_errors({"at": "yesterday"}, schema), [("/at", "'yesterday' is not a 'date-time'")]
        )

    def test_pointers(self):
        document = {"order": {"ref": "MO/001", "lines": [{"qty": 2}]}, "a/b": 1, "m~n": 2}
        self.assertEqual(resolve_pointer(document, "/order/ref"), "MO/001")
        self.assertEqual(resolve_pointer(document, "/order/lines/0/qty"), 2)
        self.assertEqual(resolve_pointer(document, "/a~1b"), 1)
        self.assertEqual(resolve_pointer(document, "/m~0n"), 2)
        self.assertIsNone(resolve_pointer(document, "/order/lines/5"))
        self.assertEqual(to_pointer(["a/b", 0, "m~n"]), "/a~1b/0/m~0n")
        with self.assertRaises(ValueError):
            resolve_pointer(document, "order")

    def test_schema_checks(self):
        with self.assertRaisesRegex(ValueError, "not valid JSON"):
            parse_schema("{")
        with self.assertRaisesRegex(ValueError, "not a valid JSON Schema"):
            parse_schema('{"type": "banana"}')
        schema = parse_schema('{"type": "object", "properties": {"qty": {"type": "number", "minimum": 0}}}')
        errors = validation_errors({"qty": -1}, schema)
        self.assertEqual(errors, [("/qty", "-1 is less than the minimum of 0")])
        self.assertEqual(
            format_errors([*errors, ("", "root problem")]),
            "/qty: -1 is less than the minimum of 0\n/: root problem",
        )


@tagged("post_install", "-at_install")
class TestSecretBox(BaseCase):
    def test_encrypt_decrypt_and_rotate(self):
        old, new = generate_key(), generate_key()
        token = SecretBox([old]).encrypt("s3cret")
        self.assertNotIn("s3cret", token)
        both = SecretBox([new, old])
        self.assertEqual(both.decrypt(token), "s3cret")
        rotated = both.rotate(token)
        self.assertEqual(SecretBox([new]).decrypt(rotated), "s3cret")
        with self.assertRaises(MasterKeyError):
            SecretBox([old]).decrypt(rotated)

    def test_key_sources(self):
        self.assertEqual(
            master_keys_from({"INTEGRATION_MASTER_KEYS": " a , b "}, {"master_keys": "c"}), ["a", "b"]
        )
        self.assertEqual(master_keys_from({}, {"master_keys": "c"}), ["c"])
        with self.assertRaisesRegex(MasterKeyError, "No master key"):
            SecretBox([])
        with self.assertRaisesRegex(MasterKeyError, "not a valid Fernet key"):
            SecretBox(["not-a-key"])


@tagged("post_install", "-at_install")
class TestHttpDelivery(BaseCase):
    def test_outcome_of_each_answer(self):
        answer = outcome_of_status

        self.assertEqual([answer(s) for s in (200, 201, 204)], [DELIVERED] * 3)
        self.assertEqual([answer(s) for s in (None, 408, 425, 429, 500, 502, 503, 504)], [RETRY] * 8)
        self.assertEqual([answer(s) for s in (301, 400, 401, 403, 404, 409, 422)], [REFUSED] * 7)

    def test_retry_after_as_delay_or_date(self):
        self.assertEqual(retry_after_seconds("120"), 120)
        self.assertEqual(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412420), 60)
        self.assertEqual(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412600), 0)
        self.assertIsNone(retry_after_seconds("soon"))
        self.assertIsNone(retry_after_seconds(None))


@tagged("post_install", "-at_install")
class TestPreforkResilience(BaseCase):
    def test_the_master_waits_for_the_database_instead_of_stopping(self):
        """A lost database while starting workers is waited out, then workers start again."""
        answers = [psycopg2.OperationalError("the database system is shutting down"), None]
        spawned = []

        def process_spawn(prefork_server):
            answer = answers.pop(0)
            if answer:
                raise answer
            spawned.append(prefork_server)

        master = SimpleNamespace()
        spawn = prefork_resilience.survive_database_outage(process_spawn)
        with self.assertLogs("odoo.addons.integration_base.lib.prefork_resilience", "WARNING"):
            spawn(master)  # raised before the patch: Odoo's master loop stops the server on it
        self.assertEqual(spawned, [])
        spawn(master)
        self.assertEqual(spawned, [master])
        self.assertFalse(master._integration_waiting_for_database)

    def test_other_errors_still_stop_the_master(self):
        def process_spawn(_prefork_server):
            raise RuntimeError("a bug")

        with self.assertRaises(RuntimeError):
            prefork_resilience.survive_database_outage(process_spawn)(SimpleNamespace())

    def test_the_prefork_master_is_patched_once(self):
        prefork_resilience.install()
        spawn = server.PreforkServer.process_spawn
        self.assertTrue(spawn.integration_survives_database_outage)
        prefork_resilience.install()
        self.assertIs(server.PreforkServer.process_spawn, spawn)
