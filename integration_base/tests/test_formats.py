# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The codecs (CSV, XML), the CloudEvents envelope and the codec registry: no database needed."""

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from odoo.tests import BaseCase, tagged

from odoo.addons.integration_base.lib import formats
from odoo.addons.integration_base.lib.formats import cloudevents, csv_format, xml_format
from odoo.addons.integration_base.lib.formats.errors import FormatError


class FormatCase(BaseCase):
    def assertRefused(self, call, reason, position, *args, **kwargs):
        """``call(*args, **kwargs)`` raises a FormatError whose reason holds ``reason``, at ``position``."""
        with self.assertRaises(FormatError) as caught:
            call(*args, **kwargs)
        self.assertIn(reason, caught.exception.reason)
        self.assertEqual(caught.exception.position, position)
        return caught.exception


@tagged("post_install", "-at_install")
class TestCsvFormat(FormatCase):
    def decode(self, body, **options):
        return csv_format.decode(body, options)

    def test_rows_read_as_strings_with_bom_crlf_and_quoted_line_breaks(self):
        body = b'\xef\xbb\xbfsku,qty,note\r\nA,2,"two\r\nlines"\r\n\r\nB, 3 ,"say ""hi"""\r\n'
        self.assertEqual(
            self.decode(body),
            [
                {
                    "rows": [
                        {"sku": "A", "qty": "2", "note": "two\r\nlines"},
                        {"sku": "B", "qty": " 3 ", "note": 'say "hi"'},
                    ]
                }
            ],
        )
        self.assertEqual(
            self.decode(b"sku,qty\nA,2\nB,3", split=True),
            [{"sku": "A", "qty": "2"}, {"sku": "B", "qty": "3"}],
        )
        self.assertEqual(self.decode(b"sku,qty\r\n"), [{"rows": []}])
        self.assertEqual(self.decode(b"sku,qty\r\n", split=True), [])

    def test_delimiter_is_sniffed_or_given(self):
        for delimiter in (";", "\t", "|"):
            body = f"sku{delimiter}price{delimiter}qty\nA{delimiter}2,5{delimiter}1\n".encode()
            self.assertEqual(
                self.decode(body, split=True), [{"sku": "A", "price": "2,5", "qty": "1"}], delimiter
            )
        self.assertEqual(self.decode(b"sku,qty\nA;B,1\n", split=True), [{"sku": "A;B", "qty": "1"}])
        # A comma inside quoted cells does not fool the sniffer into a comma file.
        self.assertEqual(
            self.decode(b'name;city\n"Doe, J.";Lyon\n"Roe, R.";Nantes\n', split=True)[1],
            {"name": "Roe, R.", "city": "Nantes"},
        )
        self.assertEqual(
            self.decode(b"a;b\n1;2\n", delimiter=",", split=True), [{"a;b": "1;2"}], "the option wins"
        )
        self.assertEqual(self.decode(b"only\nx\n", split=True), [{"only": "x"}])

    def test_encoding_option(self):
        body = "article;désignation\n1;café\n".encode("cp1252")
        self.assertEqual(
            self.decode(body, encoding="cp1252", split=True), [{"article": "1", "désignation": "café"}]
        )
        self.assertRefused(self.decode, "the bytes are not utf-8 (byte 9)", "line 1", body)
        with self.assertRaisesRegex(ValueError, "unknown encoding 'klingon'"):
            self.decode(b"a\n1\n", encoding="klingon")

    def test_types_give_the_contract_numbers_and_booleans(self):
        body = b"sku,qty,price,active\nA,2,9.50,true\nB,-3,1e3,FALSE\nC,,,\nD,+4,7,0\n"
        types = {"qty": "integer", "price": "number", "active": "boolean", "absent": "integer"}
        self.assertEqual(
            self.decode(body, split=True, types=types),
            [
                {"sku": "A", "qty": 2, "price": 9.5, "active": True},
                {"sku": "B", "qty": -3, "price": 1000.0, "active": False},
                {"sku": "C", "qty": None, "price": None, "active": None},
                {"sku": "D", "qty": 4, "price": 7, "active": False},
            ],
        )
        header = b"sku,qty,price,active\nA,2,1,true\n"
        for row, reason, position in (
            (b"B,2.5,1,true", "'2.5' is not an integer", "line 3, column 2 'qty'"),
            (b'B,2,"9,50",true', "'9,50' is not a number", "line 3, column 3 'price'"),
            (b"B,2,nan,true", "'nan' is not a number", "line 3, column 3 'price'"),
            (b"B,2,inf,true", "'inf' is not a number", "line 3, column 3 'price'"),
            (b"B,2,1e999,true", "'1e999' is not a number", "line 3, column 3 'price'"),
            (b"B,2,1,yes", "'yes' is not a boolean (true, false, 1 or 0)", "line 3, column 4 'active'"),
            (
                b"B," + b"9" * 41 + b",1,true",
                "'" + "9" * 40 + "...' is not an integer",
                "line 3, column 2 'qty'",
            ),
        ):
            self.assertRefused(self.decode, reason, position, header + row + b"\n", types=types)
        with self.assertRaisesRegex(ValueError, "unknown type 'date' for column 'qty'"):
            self.decode(header, types={"qty": "date"})

    def test_refusals_name_the_line(self):
        def decode(body):
            return self.decode(body)

        self.assertRefused(decode, "the row has 3 cells, the header has 2", "line 3", b"a,b\n1,2\n1,2,3\n")
        self.assertRefused(decode, "the row has 1 cells, the header has 2", "line 2", b"a,b\n1\n")
        # The record after a quoted line break starts two lines further.
        self.assertRefused(decode, "the row has 1 cells", "line 4", b'a,b\n1,"x\ny"\n3\n')
        self.assertRefused(decode, "column 2 of the header has no name", "line 1", b"a,,c\n1,2,3\n")
        self.assertRefused(decode, "column 1 of the header has no name", "line 2", b"\n  ,b\n1,2\n")
        self.assertRefused(
            decode, "the header names 'a' twice (columns 1 and 3)", "line 1", b"a,b,a\n1,2,3\n"
        )
        self.assertRefused(decode, "the file has no header row", "line 1", b"")
        self.assertRefused(decode, "the file has no header row", "line 1", b"\r\n\r\n")
        self.assertRefused(decode, "not valid CSV", "line 2", b'a,b\n1,"x"y\n')
        self.assertRefused(decode, "not valid CSV: unexpected end of data", "line 2", b'a,b\n1,"x\n')
        self.assertRefused(decode, "a NUL character cannot be stored", "line 3", b"a,b\n1,2\n3,\x00\n")

    def test_encode_writes_header_and_crlf_rows_that_read_back(self):
        rows = [
            {"sku": "A", "qty": 2, "price": 9.5, "active": True, "note": "two\r\nlines"},
            {"sku": "B,1", "qty": None, "price": 1e20, "active": False, "note": 'say "hi"'},
            {"sku": " C ", "qty": 0, "price": -0.25, "active": None, "note": ""},
        ]
        body = csv_format.encode({"rows": rows}, {})
        self.assertEqual(
            body,
            b"sku,qty,price,active,note\r\n"
            b'A,2,9.5,true,"two\r\nlines"\r\n'
            b'"B,1",,1e+20,false,"say ""hi"""\r\n'
            b" C ,0,-0.25,,\r\n",
        )
        types = {"qty": "integer", "price": "number", "active": "boolean"}
        self.assertEqual(self.decode(body, split=True, types=types), rows)
        self.assertEqual(
            csv_format.encode({"sku": "A", "qty": 1}, {"columns": ["qty", "sku"], "delimiter": ";"}),
            b"qty;sku\r\n1;A\r\n",
        )
        self.assertEqual(csv_format.encode({"rows": []}, {"columns": ["a"]}), b"a\r\n")
        self.assertEqual(self.decode(csv_format.encode({"rows": [{"a": ""}]}, {})), [{"rows": [{"a": ""}]}])
        self.assertEqual(csv_format.encode({"a": "é"}, {"encoding": "cp1252"}), b"a\r\n\xe9\r\n")

    def test_encode_refusals(self):
        def encode(payload, options=None):
            return csv_format.encode(payload, options or {})

        self.assertRefused(
            encode, "'extra' is not one of the columns", "/rows/1", {"rows": [{"a": 1}, {"a": 2, "extra": 3}]}
        )
        self.assertRefused(encode, "'b' is not one of the columns", "", {"a": 1, "b": 2}, {"columns": ["a"]})
        self.assertRefused(
            encode, "a CSV cell holds one value, not a dict", "/rows/0/a", {"rows": [{"a": {"b": 1}}]}
        )
        self.assertRefused(encode, "a CSV cell holds one value, not a list", "/a", {"a": [1]})
        self.assertRefused(encode, "nan is not a number", "/a", {"a": float("nan")})
        self.assertRefused(encode, "a row must be an object", "/rows/1", {"rows": [{"a": 1}, "x"]})
        self.assertRefused(encode, "a row must be an object", "/rows/0", {"rows": ["x"]})
        self.assertRefused(encode, "no columns to write", None, {"rows": []})
        self.assertRefused(
            encode, "'€' cannot be written in latin-1", "line 2", {"a": "€"}, {"encoding": "latin-1"}
        )


class _CountingHandler(BaseHTTPRequestHandler):
    """Answers a DTD or an entity to anyone who asks, and counts who asked."""

    def do_GET(self):
        self.server.requests.append(self.path)
        body = b'<!ENTITY leaked "LEAKED">' if self.path.endswith(".dtd") else b"LEAKED"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestXmlFormat(FormatCase):
    ORDER = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by the plant -->
<o:order xmlns:o="urn:example:orders" xmlns="urn:example:lines" number="MO/001">
  <line n="1"><sku>A</sku><qty>2</qty></line>
  <line n="2"><sku>B</sku><qty unit="kg">1.5</qty></line>
  <?page break?>
  <note lang="fr">  bonjour  </note>
  <remark>Rush <b>now</b> please</remark>
  <empty/>
  <tag><![CDATA[<raw> & ready]]></tag>
</o:order>
"""

    def decode(self, body, **options):
        return xml_format.decode(body, options)

    def test_the_mapping(self):
        self.assertEqual(
            self.decode(self.ORDER),
            [
                {
                    "order": {
                        "@number": "MO/001",
                        "line": [
                            {"@n": "1", "sku": "A", "qty": "2"},
                            {"@n": "2", "sku": "B", "qty": {"@unit": "kg", "#text": "1.5"}},
                        ],
                        "note": {"@lang": "fr", "#text": "  bonjour  "},
                        "remark": {"#text": "Rush  please", "b": "now"},
                        "empty": "",
                        "tag": "<raw> & ready",
                    }
                }
            ],
        )

    def test_lists_option_and_kept_namespaces(self):
        body = b'<order xmlns:x="urn:x"><line><sku>A</sku></line><x:id>7</x:id></order>'
        self.assertEqual(
            self.decode(body, lists=["line", "sku"]), [{"order": {"line": [{"sku": ["A"]}], "id": "7"}}]
        )
        self.assertEqual(
            self.decode(self.ORDER, strip_namespaces=False)[0]["{urn:example:orders}order"][
                "{urn:example:lines}line"
            ][0],
            {"@n": "1", "{urn:example:lines}sku": "A", "{urn:example:lines}qty": "2"},
        )
        self.assertEqual(
            self.decode(b'<a xmlns:p="urn:p" p:id="1"/>', strip_namespaces=False),
            [{"a": {"@{urn:p}id": "1"}}],
        )

    def test_round_trip(self):
        for options in ({}, {"strip_namespaces": False}, {"lists": ["line", "sku"]}):
            decoded = self.decode(self.ORDER, **options)
            encoded = xml_format.encode(decoded[0], {})
            self.assertTrue(encoded.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n"), encoded)
            self.assertEqual(self.decode(encoded, **options), decoded, options)
            self.assertEqual(
                xml_format.encode(self.decode(encoded, **options)[0], {}), encoded, "stable bytes"
            )

    def test_encode(self):
        payload = {
            "@number": "MO/1",
            "qty": 2,
            "done": True,
            "price": 9.5,
            "none": None,
            "line": [{"sku": "A"}, {"sku": "B", "#text": "x"}],
            "note": {"@lang": "fr", "#text": "é & <b>"},
            "nothing": [],
        }
        self.assertEqual(
            xml_format.encode(payload, {"root": "order"}),
            b"<?xml version='1.0' encoding='UTF-8'?>\n"
            b'<order number="MO/1"><qty>2</qty><done>true</done><price>9.5</price><none/>'
            b"<line><sku>A</sku></line><line>x<sku>B</sku></line>"
            b'<note lang="fr">\xc3\xa9 &amp; &lt;b&gt;</note></order>',
        )
        self.assertEqual(
            xml_format.encode({"{urn:x}a": {"{urn:x}b": "1"}}, {}),
            b"<?xml version='1.0' encoding='UTF-8'?>\n<ns0:a xmlns:ns0=\"urn:x\"><ns0:b>1</ns0:b></ns0:a>",
        )

    def test_root_option(self):
        self.assertEqual(self.decode(b"<order><id>1</id></order>", root="order"), [{"id": "1"}])
        self.assertRefused(
            self.decode, "the root element is <invoice>, not <order>", "line 2", b"\n<invoice/>", root="order"
        )
        self.assertRefused(
            self.decode, "<order> holds only text", "line 1", b"<order>text</order>", root="order"
        )
        self.assertEqual(
            self.decode(xml_format.encode({"id": "1"}, {"root": "order"}), root="order"), [{"id": "1"}]
        )

    def test_encode_refusals(self):
        def encode(payload, options=None):
            return xml_format.encode(payload, options or {})

        self.assertRefused(encode, "an XML document has one root", None, {"a": 1, "b": 2})
        self.assertRefused(encode, "the root element cannot repeat", "/a", {"a": [1, 2]})
        self.assertRefused(encode, "a list inside a list has no XML form", "/a/b/0", {"a": {"b": [[1]]}})
        self.assertRefused(encode, "'1st' is not an XML element name", "/a/1st", {"a": {"1st": "x"}})
        self.assertRefused(encode, "'x:y' is not an XML element name", "/a/x:y", {"a": {"x:y": "x"}})
        self.assertRefused(encode, "the text cannot be written in XML", "/a/b", {"a": {"b": "bell\x07"}})
        self.assertRefused(encode, "the attribute cannot be written in XML", "/a/@id", {"a": {"@id": "\x00"}})
        self.assertRefused(encode, "nan cannot be written as XML text", "/a/b", {"a": {"b": float("nan")}})
        self.assertRefused(encode, "cannot be written as XML text", "/a/@id", {"a": {"@id": {"x": 1}}})

    def test_parse_errors_give_line_and_column(self):
        self.assertRefused(
            self.decode, "Opening and ending tag mismatch", "line 3, column 5", b"<a>\n<b>\n</a>"
        )
        self.assertRefused(self.decode, "not well-formed XML", "line 1, column 1", b"")
        self.assertRefused(self.decode, "Entity 'nbsp' not defined", "line 1, column 10", b"<a>&nbsp;</a>")
        self.assertRefused(
            self.decode, "Extra content at the end of the document", "line 1, column 5", b"<a/><b/>"
        )
        self.assertRefused(
            self.decode,
            "two attributes are named 'id' once namespaces are stripped",
            "line 2",
            b'<a xmlns:p="urn:p">\n<b id="1" p:id="2"/></a>',
        )

    def test_size_and_depth_limits(self):
        deep = b"<a>" * 65 + b"</a>" * 65
        self.assertRefused(self.decode, "nested deeper than 64 levels", "line 1", deep)
        deepest_allowed = ""
        for _level in range(64):
            deepest_allowed = {"a": deepest_allowed}
        self.assertEqual(self.decode(b"<a>" * 64 + b"</a>" * 64), [deepest_allowed])
        body = b"<a>" + b"x" * 100 + b"</a>"
        self.assertRefused(xml_format.decode, "larger than 50 bytes", None, body, {"max_bytes": 50})
        self.assertRefused(
            self.decode,
            "nested deeper than 3 levels",
            "line 3",
            b"<a>\n<b>\n<c><d/></c></b></a>",
            max_depth=3,
        )

    def test_billion_laughs_is_refused_before_any_expansion(self):
        laughs = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        for level in range(1, 10):
            previous = b"lol" if level == 1 else b"lol%d" % (level - 1)
            laughs += b' <!ENTITY lol%d "%s">\n' % (level, (b"&" + previous + b";") * 10)
        laughs += b"]>\n<lolz>&lol9;</lolz>\n"
        self.assertRefused(self.decode, "a DOCTYPE is refused", "line 2", laughs)

    def test_external_entities_and_dtds_are_never_fetched(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
        server.requests = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = f"http://127.0.0.1:{server.server_port}".encode()
        attacks = {
            "external entity (file)": b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
            "external entity (network)": b'<!DOCTYPE a [<!ENTITY x SYSTEM "' + base + b'/x">]><a>&x;</a>',
            "external DTD": b'<!DOCTYPE a SYSTEM "' + base + b'/evil.dtd"><a>&leaked;</a>',
            "parameter entity": b'<!DOCTYPE a [<!ENTITY % p SYSTEM "'
            + base
            + b'/evil.dtd"> %p;]><a>&leaked;</a>',
        }
        for attack, body in attacks.items():
            error = self.assertRefused(self.decode, "a DOCTYPE is refused", "line 1", body)
            self.assertNotIn("root:", str(error), attack)
        # The parser under the DOCTYPE refusal holds on its own: nothing fetched, nothing expanded.
        for attack, body in attacks.items():
            try:
                root = xml_format.etree.fromstring(body, xml_format._hardened_parser())
            except xml_format.etree.XMLSyntaxError:
                continue
            text = xml_format.etree.tostring(root, method="text", encoding="unicode")
            self.assertFalse("LEAKED" in text or "root:" in text, f"{attack}: an entity was expanded")
        self.assertEqual(server.requests, [], "the loopback server was never asked for anything")

    def test_a_doctype_is_found_whatever_the_encoding(self):
        body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode(
            "utf-16"
        )
        self.assertRefused(self.decode, "a DOCTYPE is refused", None, body)
        self.assertEqual(
            self.decode('<?xml version="1.0" encoding="UTF-16"?><a>é</a>'.encode("utf-16")), [{"a": "é"}]
        )


@tagged("post_install", "-at_install")
class TestCloudEvents(FormatCase):
    """Expected events are written by hand from the CloudEvents 1.0.2 spec and its JSON format examples."""

    def test_structured_event_with_json_data(self):
        body = cloudevents.structured(
            {"appinfoA": "abc", "appinfoB": 123, "appinfoC": True},
            id="C234-1234-1234",
            source="/mycontext",
            type="com.example.someevent",
            time="2018-04-05T17:31:00Z",
            extensions={"comexampleextension1": "value", "comexampleothervalue": 5},
        )
        self.assertEqual(cloudevents.STRUCTURED_CONTENT_TYPE, "application/cloudevents+json")
        self.assertEqual(
            json.loads(body),
            {
                "specversion": "1.0",
                "type": "com.example.someevent",
                "source": "/mycontext",
                "id": "C234-1234-1234",
                "time": "2018-04-05T17:31:00Z",
                "comexampleextension1": "value",
                "comexampleothervalue": 5,
                "datacontenttype": "application/json",
                "data": {"appinfoA": "abc", "appinfoB": 123, "appinfoC": True},
            },
        )

    def test_structured_event_with_binary_or_text_data_or_none(self):
        binary = cloudevents.structured(
            b"\x00\x01\x02",
            id="B1",
            source="urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
            type="com.example.someevent",
            datacontenttype="application/vnd.apache.thrift.binary",
        )
        self.assertEqual(
            json.loads(binary),
            {
                "specversion": "1.0",
                "id": "B1",
                "source": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
                "type": "com.example.someevent",
                "datacontenttype": "application/vnd.apache.thrift.binary",
                "data_base64": "AAEC",
            },
        )
        xml = cloudevents.structured(
            '<much wow="xml"/>', id="X1", source="/mycontext", type="t", datacontenttype="application/xml"
        )
        self.assertEqual(json.loads(xml)["data"], '<much wow="xml"/>')
        self.assertEqual(
            json.loads(
                cloudevents.structured(None, id="N1", source="1-555-123-4567", type="t", datacontenttype=None)
            ),
            {"specversion": "1.0", "id": "N1", "source": "1-555-123-4567", "type": "t"},
        )
        naive_utc = datetime.datetime(2026, 12, 1, 10, 0, 0, 250000)
        paris = datetime.datetime(2026, 12, 1, 11, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
        self.assertEqual(
            json.loads(cloudevents.structured({}, id="1", source="/s", type="t", time=naive_utc))["time"],
            "2026-12-01T10:00:00.250000Z",
        )
        self.assertEqual(
            json.loads(cloudevents.structured({}, id="1", source="/s", type="t", time=paris))["time"],
            "2026-12-01T10:00:00Z",
        )

    def test_binary_mode_headers(self):
        headers = cloudevents.binary_headers(
            id="B234-1234-1234",
            source="/mycontext",
            type="com.example.someevent",
            time="2018-04-05T17:31:00Z",
            subject="Euro € 😀",
            datacontenttype="application/xml",
            extensions={"comexampleextension1": "value", "comexampleothervalue": 5, "sampled": True},
        )
        self.assertEqual(
            headers,
            {
                "ce-specversion": "1.0",
                "ce-id": "B234-1234-1234",
                "ce-source": "/mycontext",
                "ce-type": "com.example.someevent",
                "ce-time": "2018-04-05T17:31:00Z",
                "ce-subject": "Euro%20%E2%82%AC%20%F0%9F%98%80",
                "ce-comexampleextension1": "value",
                "ce-comexampleothervalue": "5",
                "ce-sampled": "true",
                "Content-Type": "application/xml",
            },
        )
        self.assertNotIn("ce-datacontenttype", headers)
        self.assertEqual(cloudevents.percent_encode('a "b" 100%'), "a%20%22b%22%20100%25")

    def test_required_and_typed_attributes_are_checked(self):
        def build(**changes):
            attributes = {"id": "1", "source": "/s", "type": "t", **changes}
            return cloudevents.structured({}, **attributes)

        for changes, reason, position in (
            ({"id": ""}, "id must be a non-empty string", "id"),
            ({"type": ""}, "type must be a non-empty string", "type"),
            ({"type": 7}, "type must be a non-empty string", "type"),
            ({"source": ""}, "source must be a non-empty URI-reference", "source"),
            ({"source": "has space"}, "source must be a non-empty URI-reference", "source"),
            ({"source": "1abc:x"}, "source must be a non-empty URI-reference", "source"),
            ({"source": "/bad%zz"}, "source must be a non-empty URI-reference", "source"),
            ({"subject": ""}, "subject must be a non-empty string", "subject"),
            (
                {"subject": "line\nbreak"},
                "subject holds a character CloudEvents strings cannot hold",
                "subject",
            ),
            ({"dataschema": "/relative"}, "dataschema must be an absolute URI", "dataschema"),
            ({"dataschema": "https://x/s.json#frag"}, "dataschema must be an absolute URI", "dataschema"),
            ({"time": "yesterday"}, "time must be an RFC 3339 timestamp", "time"),
            ({"time": "2018-02-30T00:00:00Z"}, "time is not a real date and time", "time"),
            ({"datacontenttype": "json"}, "datacontenttype must be a media type", "datacontenttype"),
            ({"extensions": {"Upper": 1}}, "'Upper' is not a CloudEvents attribute name", "Upper"),
            ({"extensions": {"my-ext": 1}}, "'my-ext' is not a CloudEvents attribute name", "my-ext"),
            ({"extensions": {"my_ext": 1}}, "'my_ext' is not a CloudEvents attribute name", "my_ext"),
            ({"extensions": {"ümlaut": 1}}, "'ümlaut' is not a CloudEvents attribute name", "ümlaut"),
            ({"extensions": {"data": 1}}, "'data' is not a CloudEvents attribute name", "data"),
            ({"extensions": {"id": "2"}}, "'id' is a core attribute, not an extension", "id"),
            ({"extensions": {"ratio": 0.5}}, "ratio is a float, which is not a CloudEvents type", "ratio"),
            ({"extensions": {"big": 2**31}}, "big is outside the 32-bit integers", "big"),
        ):
            with self.subTest(changes=changes):
                self.assertRefused(build, reason, position, **changes)
        accepted = json.loads(
            build(
                source="mailto:cncf-wg-serverless@lists.cncf.io",
                dataschema="https://example.com/schemas/order.json",
                datacontenttype='application/json; charset="utf-8"',
                extensions={"a1": -(2**31), "averyveryverylongname": "21 characters: a SHOULD, not a MUST"},
            )
        )
        self.assertEqual(accepted["a1"], -2147483648)
        self.assertRefused(
            lambda: cloudevents.structured(object(), id="1", source="/s", type="t"),
            "data is not a JSON value",
            "data",
        )
        self.assertRefused(
            lambda: cloudevents.structured(
                {"a": 1}, id="1", source="/s", type="t", datacontenttype="text/plain"
            ),
            "data for text/plain must be bytes or a string",
            "data",
        )

    def test_parse_structured(self):
        spec_example = b"""{
            "specversion" : "1.0",
            "type" : "com.example.someevent",
            "source" : "/mycontext",
            "id" : "B234-1234-1234",
            "time" : "2018-04-05T17:31:00Z",
            "comexampleextension1" : "value",
            "comexampleothervalue" : 5,
            "unsetextension": null,
            "datacontenttype" : "application/xml",
            "data" : "<much wow=\\"xml\\"/>"
        }"""
        self.assertEqual(
            cloudevents.parse_structured(spec_example),
            {
                "specversion": "1.0",
                "type": "com.example.someevent",
                "source": "/mycontext",
                "id": "B234-1234-1234",
                "time": "2018-04-05T17:31:00Z",
                "comexampleextension1": "value",
                "comexampleothervalue": 5,
                "datacontenttype": "application/xml",
                "data": '<much wow="xml"/>',
            },
        )
        self.assertEqual(
            cloudevents.parse_structured(
                b'{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":null,"data_base64":"AAEC"}'
            ),
            {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": b"\x00\x01\x02"},
        )
        self.assertEqual(
            cloudevents.parse_structured(
                b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":null}'
            ),
            {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": None},
        )

        def parse(event):
            return cloudevents.parse_structured(json.dumps(event).encode())

        valid = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
        for name in ("id", "source", "type"):
            self.assertRefused(
                parse, f"{name} is required", name, {k: v for k, v in valid.items() if k != name}
            )
            self.assertRefused(parse, f"{name} is required", name, {**valid, name: None})
        self.assertRefused(parse, "specversion must be 1.0", "specversion", {**valid, "specversion": "0.3"})
        self.assertRefused(
            parse,
            "specversion must be 1.0",
            "specversion",
            {k: v for k, v in valid.items() if k != "specversion"},
        )
        self.assertRefused(parse, "'Bad' is not a CloudEvents attribute name", "Bad", {**valid, "Bad": "x"})
        self.assertRefused(parse, "nested is a dict", "nested", {**valid, "nested": {"a": 1}})
        self.assertRefused(
            parse,
            "data and data_base64 cannot both be present",
            "data_base64",
            {**valid, "data": 1, "data_base64": "AA=="},
        )
        self.assertRefused(parse, "data_base64 is not Base64", "data_base64", {**valid, "data_base64": "***"})
        self.assertRefused(
            parse,
            "data for text/plain must be a string",
            "data",
            {**valid, "datacontenttype": "text/plain", "data": {"a": 1}},
        )
        self.assertRefused(parse, "a structured event is a JSON object", None, [valid])
        self.assertRefused(cloudevents.parse_structured, "not a JSON event", None, b"{")

    def test_structured_events_read_back(self):
        time = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        body = cloudevents.structured(
            [1, "two"],
            id="r1",
            source="https://erp.example.com/odoo",
            type="com.example.order.v1",
            time=time,
            subject="MO/001",
            dataschema="https://erp.example.com/schemas/order-v1.json",
            extensions={
                "sequence": 42,
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            },
        )
        self.assertEqual(
            cloudevents.parse_structured(body),
            {
                "specversion": "1.0",
                "id": "r1",
                "source": "https://erp.example.com/odoo",
                "type": "com.example.order.v1",
                "time": "2026-01-02T03:04:05Z",
                "subject": "MO/001",
                "dataschema": "https://erp.example.com/schemas/order-v1.json",
                "datacontenttype": "application/json",
                "sequence": 42,
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "data": [1, "two"],
            },
        )


@tagged("post_install", "-at_install")
class TestFormatRegistry(FormatCase):
    def test_installed_codecs(self):
        self.assertLessEqual({"csv", "json", "xml"}, set(formats.names()), "connectors may register more")
        self.assertEqual(formats.content_type("csv"), "text/csv")
        self.assertEqual(formats.content_type("xml"), "application/xml")
        self.assertEqual(formats.decode("csv", b"a\n1\n", {"split": True}), [{"a": "1"}])
        self.assertEqual(formats.decode("xml", b"<a><b>1</b></a>"), [{"a": {"b": "1"}}])
        self.assertEqual(formats.encode("csv", {"a": 1}), b"a\r\n1\r\n")
        with self.assertRaisesRegex(ValueError, "no codec for format 'morse'"):
            formats.codec("morse")

    def test_a_registered_codec_keeps_envelope_facts(self):
        def decode(body, options):
            control, _separator, item = body.decode().partition("|")
            return [{formats.ENVELOPE_KEY: {"control_number": control}, "item": item}]

        def encode(payload, options):
            payload, envelope = formats.split_envelope(payload)
            return f"{envelope['control_number']}|{payload['item']}".encode()

        codec = SimpleNamespace(CONTENT_TYPES=("application/x-test-edi",), decode=decode, encode=encode)
        formats.register("test-edi", codec)
        self.addCleanup(formats._CODECS.pop, "test-edi")
        (document,) = formats.decode("test-edi", b"000000042|widget")
        payload, envelope = formats.split_envelope(document)
        self.assertEqual(payload, {"item": "widget"})
        self.assertEqual(envelope, {"control_number": "000000042"})
        self.assertIn(formats.ENVELOPE_KEY, document, "splitting leaves the decoded document as it was")
        self.assertEqual(formats.encode("test-edi", document), b"000000042|widget")
        self.assertEqual(formats.split_envelope({"a": 1}), ({"a": 1}, {}))
        self.assertRefused(formats.split_envelope, "'#envelope' is reserved", None, {"#envelope": "x"})
