#!/usr/bin/env python3
"""Writes the hand-made seed corpora under fuzz/corpus/ (all but fuzz-verify's, which the fuzz-verify binary makes
from a real log: `fuzz/run --make-seeds`). Idempotent: rewrites the same files. Values that look like secrets are
the rule files' own test examples, not live credentials."""
import json, os, shutil, zlib, glob, io, zipfile, base64, quopri

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
ROOT = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")

def put(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)

# A well-formed gateway key (valid base62 CRC32 checksum, random-looking but made up here).
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(value, width):
    out = []
    for _ in range(width):
        out.append(B62[value % 62]); value //= 62
    return "".join(reversed(out))
body = "gwk_" + "Fz7Hq2Lm0a" + "Q9w8E7r6T5y4U3i2O1pAsDfGhJkLzXcV"
GATEWAY_KEY = body + b62(zlib.crc32(body.encode()), 6)

# ---------------------------------------------------------------- JSON bodies (fuzz-json)
EMAIL, PHONE, CARD = "jo.smith@acme-widgets.co.uk", "+44 20 7946 0958", "4111 1111 1111 1111"
GH, AWS = "ghp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH", "AKIAL2YY5HLGNUZLUMHX"
IBAN, SSN = "DE89 3704 0044 0532 0130 00", "536-90-4399"

def dumps(value, ascii=False):
    return json.dumps(value, ensure_ascii=ascii, separators=(",", ":"))

json_seeds = {
    "chat-clean": dumps({"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello! Summarise the French revolution in 3 bullet points."}],
        "temperature": 0.2, "stream": True}),
    "chat-pii": dumps({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": f"Draft a reply to {EMAIL}, phone {PHONE}, card {CARD}, IBAN {IBAN}, SSN {SSN}."}]}),
    "chat-secret": dumps({"model": "gpt-4o", "messages": [
        {"role": "user", "content": f"why does this fail?\nexport GITHUB_TOKEN={GH}\naws_access_key_id = {AWS}\n"}]}),
    # Escapes: \n \t \" \\ \/ and \u escapes (ensure_ascii turns every non-ASCII character into \uXXXX).
    "chat-escapes": dumps({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "line1\nline2\t\"quoted\" back\\slash a/b caf\u00e9 \u00fc\u00df \u4e2d\u6587 mail: jo.smith@acme-widgets.co.uk"}]}, ascii=True),
    # Surrogate pairs (emoji), escaped; and lone surrogates (refused: 400).
    "chat-surrogates": '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"smile \\ud83d\\ude00 flag \\ud83c\\uddeb\\ud83c\\uddf7 mail jo\\u0040acme.com \\uD83D\\uDE00"}]}',
    "chat-lone-surrogate": '{"messages":[{"role":"user","content":"lone \\ud800 end \\udfff x jo@acme.com"}]}',
    # Duplicate member names (after unescaping): refused.
    "duplicate-keys": '{"model":"a","mod\\u0065l":"b","messages":[{"content":"jo@acme.com","content":"x"}]}',
    # A secret spelled with \u escapes and a zero-width space inside the value.
    "chat-escaped-secret": '{"messages":[{"role":"user","content":"key: \\u0041KIA\\u200bL2YY5HLGNUZLUMHX and g\\u0068p_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH"}]}',
    "chat-fullwidth": dumps({"messages": [{"role": "user", "content": "fullwidth: jo\uff12\uff10@acme.com  +\uff14\uff14 20 7946 0958"}]}),
    "anthropic-blocks": dumps({"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": [
        {"type": "text", "text": f"Reply to {EMAIL}", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": f"my card is {CARD}"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}},
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": [{"type": "text", "text": f"ssn {SSN}"}]}]}]}),
    "tool-calls-nested": dumps({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "look up the customer"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "lookup", "arguments": dumps({"email": EMAIL, "filters": {"phone": [PHONE], "deep": [[[{"card": CARD}]]]}})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": dumps({"result": {"name": "Jo", "iban": IBAN}})}],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"email": {"type": "string"}}}}}]}),
    "responses-input": dumps({"model": "gpt-4.1", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": f"contact {EMAIL}"}]}], "instructions": "be brief", "metadata": {EMAIL: "key is pii"}}),
    "embeddings-array": dumps({"model": "text-embedding-3-small", "input": ["plain", f"mail {EMAIL}", f"card {CARD}", "", "\u0000nul"]}),
    "deep-nesting": "[" * 200 + '"jo@acme.com"' + "]" * 200,
    "numbers-literals": '{"a":-0.0e+10,"b":1E400,"c":[true,false,null],"d":{},"e":[],"f":"","g":123456789012345678901234567890}',
    "whitespace-bom": '\ufeff \r\n\t{ "messages" : [ { "content" : "jo.smith@acme-widgets.co.uk" } ] } \n',
    "key-with-pii": dumps({f"{EMAIL}": {f"{CARD}": "value", "k": [EMAIL, EMAIL]}}),
}
for name, text in json_seeds.items():
    put("fuzz-json", name + ".json", text)

# ---------------------------------------------------------------- text bodies (fuzz-text)
text_seeds = {
    "prose-pii": f"Hi team,\nplease call Jo at {PHONE} or mail {EMAIL}.\nCard on file: {CARD}.\nIBAN: {IBAN}\n",
    "env-file": f"GITHUB_TOKEN={GH}\naws_access_key_id = {AWS}\naws_secret_access_key = 379jGnXMBa79OMjRcrWDeSB3XcYEbE5xqp7w2DNu\nSLACK_BOT_TOKEN=xoxb-966824845357-3094648472916-tGRVczAURs8z27R1LiriYFPW\n",
    "unicode-tricks": "split: jo.smith@ac\u200bme.com\nfullwidth: jo\uff12\uff10@acme.com\nRTL \u202egnirts\u202c combining e\u0301\u0301\u0301 \ufeff\n",
    "clean": "The quick brown fox jumps over the lazy dog. version 18.30.326, released 2027-10-22, ISBN 978-3-103-46173-0\n",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQYx2eqzDV+xeG8kx/sQFV18S5JhzGeIJN\n-----END RSA PRIVATE KEY-----\n",
    "gateway-key": f"my gateway key is {GATEWAY_KEY} please rotate\n",
}
for name, text in text_seeds.items():
    put("fuzz-text", name + ".txt", text)
put("fuzz-text", "invalid-utf8.bin", b"mail jo@acme.com \xff\xfe\xc3\x28 \xed\xa0\x80 card 4111 1111 1111 1111\n")

# ---------------------------------------------------------------- multipart bodies (fuzz-multipart)
B = "fuzzboundary"
def multipart(parts):
    out = b""
    for headers, content in parts:
        out += b"--" + B.encode() + b"\r\n" + "".join(h + "\r\n" for h in headers).encode() + b"\r\n"
        out += content if isinstance(content, bytes) else content.encode()
        out += b"\r\n"
    return out + b"--" + B.encode() + b"--\r\n"

put("fuzz-multipart", "file-upload-jsonl.bin", multipart([
    (['Content-Disposition: form-data; name="purpose"'], "fine-tune"),
    (['Content-Disposition: form-data; name="file"; filename="train.jsonl"', "Content-Type: application/jsonl"],
     dumps({"messages": [{"role": "user", "content": f"mail {EMAIL}"}]}) + "\n")]))
put("fuzz-multipart", "json-part.bin", multipart([
    (['Content-Disposition: form-data; name="meta"', "Content-Type: application/json"],
     dumps({"note": f"card {CARD}", "esc": "a\"b\\c\u00e9"}, ascii=True))]))
put("fuzz-multipart", "text-fields.bin", multipart([
    (['Content-Disposition: form-data; name="prompt"'], f"call {PHONE}"),
    (['Content-Disposition: form-data; name="notes"; filename="notes.txt"', "Content-Type: text/plain"], f"token {GH}\n"),
    (['Content-Disposition: form-data; name="empty"'], "")]))
put("fuzz-multipart", "binary-part.bin", multipart([
    (['Content-Disposition: form-data; name="file"; filename="audio.mp3"', "Content-Type: audio/mpeg"],
     b"ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00" + bytes(range(256))),
    (['Content-Disposition: form-data; name="model"'], "whisper-1")]))
put("fuzz-multipart", "preamble-epilogue.bin", b"preamble text\r\n" + multipart([
    (['Content-Disposition: form-data; name="a"', "Content-Type: text/markdown; charset=utf-8"], f"# hi\n{EMAIL}")]) + b"epilogue jo@acme.com\r\n")
put("fuzz-multipart", "boundary-in-content.bin", multipart([
    (['content-disposition: form-data; name="x"; filename="x.csv"'], "a,b\r\n--fuzzboundar,y\r\n--fuzzboundaryX\r\n" + SSN)]))

# ---------------------------------------------------------------- rule files (fuzz-rules)
for path in sorted(glob.glob(os.path.join(ROOT, "rules", "*.yaml"))):
    put("fuzz-rules", os.path.basename(path), open(path, "rb").read())
put("fuzz-rules", "minimal.yaml", """rules:
  - id: ticket-id
    description: internal ticket
    category: internal
    type: ticket
    pattern: 'TCK-\\d{6}'
    confidence: 0.7
    examples:
      match: ['see TCK-123456']
      no_match: ['TCK-12']
""")
put("fuzz-rules", "full-fields.yaml", """rules:
  - id: custom-token
    description: A custom token with every optional field
    category: secret
    type: custom_token
    pattern: '(?<![A-Za-z0-9])ctk_[A-Za-z0-9]{20}(?![A-Za-z0-9])'
    keywords: [ctk_]
    anchor: 'ctk_'
    confidence: 0.95
    redaction: hash
    validator: luhn
    enabled: true
    allow:
      patterns: ['(?i)example']
      values: ['ctk_00000000000000000000']
    examples:
      match: []
      no_match: ['ctk_short']
  - id: disabled-rule
    category: pii
    type: x
    pattern: '(unclosed'
    enabled: false
""")
put("fuzz-rules", "errors.yaml", """rules:
  - id: bad-regex
    category: pii
    type: x
    pattern: '(?<=a+)b'
  - id: bad-regex
    category: pii
    pattern: '\\'
  - {}
  - id: anchors
    category: pci
    type: y
    pattern: '\\d{4}'
    anchor: 'digits:4'
    digit_shape: card
    validator: nonsense
    confidence: 7
""")
put("fuzz-rules", "yaml-features.yaml", """%YAML 1.1
---
defaults: &d {category: pii, type: t, confidence: 0.6}
rules:
  - <<: *d
    id: merged
    pattern: "a\\u00e9b"
  - id: folded
    category: pii
    type: t
    pattern: >-
      x+
      y
    examples: {match: ["xx y"], no_match: [!!str 12]}
...
""")

# ---------------------------------------------------------------- HTTP request heads (fuzz-http-head)
CRLF = "\r\n"
def head(lines, body=""):
    return CRLF.join(lines) + CRLF + CRLF + body
chat = dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]})
http_seeds = {
    "openai-chat": head(["POST /v1/chat/completions HTTP/1.1", "Host: 127.0.0.1:8443", f"Authorization: Bearer {GATEWAY_KEY}",
                         "Content-Type: application/json", f"Content-Length: {len(chat)}", "User-Agent: OpenAI/Python 1.54.0",
                         "Accept: application/json", "X-Stainless-Lang: python"], chat),
    "anthropic-messages": head(["POST /v1/messages HTTP/1.1", "host: localhost", f"x-api-key: {GATEWAY_KEY}",
                                "anthropic-version: 2023-06-01", "content-type: application/json", "content-length: 2"], "{}"),
    "get-models": head(["GET /v1/models HTTP/1.1", "Host: gw.internal", f"Authorization: Bearer {GATEWAY_KEY}", "Connection: close"]),
    "chunked": head(["POST /v1/chat/completions HTTP/1.1", "Host: gw", "Transfer-Encoding: chunked", "Content-Type: application/json"],
                    "2\r\n{}\r\n0\r\n\r\n"),
    "te-and-cl": head(["POST /v1/embeddings HTTP/1.1", "Host: gw", "Content-Length: 5", "Transfer-Encoding: gzip, chunked"], "0\r\n\r\n"),
    "expect-continue": head(["POST /v1/files HTTP/1.1", "Host: gw", "Expect: 100-continue", "Content-Length: 10",
                             "Content-Type: multipart/form-data; boundary=x"]),
    "dot-segments": head(["GET /v1/../admin/./x/%2e%2E/metrics HTTP/1.1", "Host: gw"]),
    "encoded-slash": head(["POST /v1%2Fchat%2fcompletions?x=%2F HTTP/1.1", "Host: gw", "Content-Length: 0"]),
    "absolute-form": head(["GET http://api.openai.com/v1/models HTTP/1.1", "Host: evil.example"]),
    "two-hosts": head(["GET /v1/models HTTP/1.1", "Host: a", "Host: b"]),
    "no-host-http10": head(["GET /v1/models HTTP/1.0"]),
    "key-in-query-and-header": head([f"GET /v1/models?api_key={GATEWAY_KEY} HTTP/1.1", "Host: gw",
                                     f"X-Debug: {GATEWAY_KEY}", f"Cookie: k={GATEWAY_KEY}"]),
    "pipelined": head(["GET /v1/models HTTP/1.1", "Host: gw"]) + head(["POST /v1/chat/completions HTTP/1.1", "Host: gw", "Content-Length: 2"], "{}"),
    "obs-fold-bare-cr": "GET / HTTP/1.1\r\nHost: gw\r\nX-A: a\r\n b\r\nX-B: c\rd\r\n\r\n",
    "options-star": head(["OPTIONS * HTTP/1.1", "Host: gw", "Expect: something-else"]),
}
for name, text in http_seeds.items():
    put("fuzz-http-head", name + ".http", text)

# ---------------------------------------------------------------- gateway.yaml (fuzz-config)
config = open(os.path.join(ROOT, "gateway.yaml"), encoding="utf-8").read()
put("fuzz-config", "gateway.yaml", config)
# The same without comments and blank lines (denser for the mutator).
bare = "\n".join(line for line in (l.split(" #")[0].rstrip() for l in config.splitlines())
                 if line.strip() and not line.lstrip().startswith("#")) + "\n"
put("fuzz-config", "gateway-bare.yaml", bare)
# Environment expansion edge cases: a missing variable, an escaped `$${`, a nested default, a bad port.
put("fuzz-config", "gateway-env.yaml", bare.replace("${OPENAI_API_KEY:-}", "${MISSING_VAR}$${literal}${A:-${B:-x}}", 1)
    .replace("8443", "${GATEWAY_PORT:-99999}", 1))

# ---------------------------------------------------------------- documents (DocumentExtractorFuzzer)
def pdf(objects):
    """A PDF from its numbered objects (1: catalog), with a correct xref table and trailer (an /Info at the end)."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, len(objects), xref)
    return bytes(out)

def stream(data, compress=False):
    if compress:
        data = zlib.compress(data)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

PAGE_TEXT = b"BT /F1 12 Tf 72 720 Td (Invoice for jo.smith@acme-widgets.co.uk, card 4111 1111 1111 1111) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
INFO = b"<< /Title (Quarterly report) /Author (Jo Smith) >>"
put("DocumentExtractorFuzzer", "minimal.pdf", pdf([
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    stream(PAGE_TEXT), FONT, INFO]))
# Two pages, a compressed content stream, an annotation with contents, a text form field.
put("DocumentExtractorFuzzer", "flate-annot-form.pdf", pdf([
    b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] >> >>",
    b"<< /Type /Pages /Kids [3 0 R 8 0 R] /Count 2 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >>"
    b" /Annots [6 0 R 7 0 R] >>",
    stream(PAGE_TEXT + b"\nBT /F1 10 Tf 72 700 Td <414B4941> Tj ET", compress=True), FONT,
    b"<< /Type /Annot /Subtype /Text /Rect [10 10 50 50] /Contents (note: SSN 536-90-4399) >>",
    b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (email) /V (jo@acme.com) /DA (/F1 10 Tf 0 g) /Rect [100 100 300 120] /P 3 0 R >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 9 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    stream(b"BT /F1 12 Tf 72 720 Td (page two) Tj ET", compress=True), INFO]))

def zipped(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 2, 3, 4, 6)), data, compress_type=compression)
    return buffer.getvalue()

CT = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
put("DocumentExtractorFuzzer", "minimal.docx", zipped([
    ("[Content_Types].xml", CT),
    ("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
    ("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Mail jo.smith@acme-widgets.co.uk &amp; caf&#233; &#x41;KIA</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> L2YY5HLGNUZLUMHX</w:t></w:r></w:p></w:body></w:document>'),
    ("word/header1.xml", '<w:hdr xmlns:w="w"><w:p><w:r><w:t>header &lt;x&gt;</w:t></w:r></w:p></w:hdr>'),
    ("docProps/core.xml", '<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:creator>Jo Smith</dc:creator></cp:coreProperties>')]))
put("DocumentExtractorFuzzer", "minimal.xlsx", zipped([
    ("[Content_Types].xml", CT),
    ("xl/workbook.xml", '<workbook xmlns="x"><sheets><sheet name="S1" sheetId="1"/></sheets></workbook>'),
    ("xl/sharedStrings.xml", '<sst xmlns="x" count="2"><si><t>IBAN DE89 3704 0044 0532 0130 00</t></si><si><r><t>rich</t></r></si></sst>'),
    ("xl/worksheets/sheet1.xml", '<worksheet xmlns="x"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>inline 536-90-4399</t></is></c></row></sheetData></worksheet>')]))
put("DocumentExtractorFuzzer", "minimal.pptx", zipped([
    ("[Content_Types].xml", CT),
    ("ppt/presentation.xml", '<p:presentation xmlns:p="p"/>'),
    ("ppt/slides/slide1.xml", '<p:sld xmlns:p="p" xmlns:a="a"><a:t>Slide: ghp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH</a:t></p:sld>'),
    ("ppt/notesSlides/notesSlide1.xml", '<p:notes xmlns:p="p" xmlns:a="a"><a:t>speaker notes</a:t></p:notes>')]))
MAIL = ("From: Jo Smith <jo@acme.com>\r\nTo: team@acme.com\r\nSubject: =?UTF-8?Q?Caf=C3=A9_report?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n"
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quopri.encodestring("Card 4111 1111 1111 1111, café = soft\nline that is long enough to be wrapped by the quoted printable encoder at seventy six\n".encode()).decode()
        + "\r\n--b1\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(b"<p>SSN&nbsp;536&#45;90&#x2D;4399 &amp; &lt;b&gt;</p>").decode()
        + "\r\n--b1\r\nContent-Type: application/zip; name=\"a.zip\"\r\nContent-Disposition: attachment; filename=\"a.zip\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(zipped([("notes.txt", b"zipped mail jo@acme.com\n")])).decode()
        + "\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@b.c\r\nSubject: inner\r\n\r\ninner body AKIAL2YY5HLGNUZLUMHX\r\n"
        "--b1--\r\nepilogue\r\n")
put("DocumentExtractorFuzzer", "multipart.eml", MAIL)
put("DocumentExtractorFuzzer", "simple.eml", "From: a@b.c\nTo: d@e.f\nSubject: hi\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
    + base64.encodebytes(b"phone +44 20 7946 0958\n").decode())
put("DocumentExtractorFuzzer", "archive.zip", zipped([
    ("dir/", b""), ("dir/readme.txt", b"plain text jo@acme.com\n"), ("page.html", b"<html><body>&eacute;&#8364;&#x1F600;</body></html>"),
    ("inner.zip", zipped([("deep.rtf", br"{\rtf1 deep \'e9}")], zipfile.ZIP_STORED)),
    ("doc.pdf", open(os.path.join(CORPUS, "DocumentExtractorFuzzer", "minimal.pdf"), "rb").read())]))
put("DocumentExtractorFuzzer", "stored.zip", zipped([("a.json", b'{"k":"jo@acme.com"}'), ("b.jsonl", b'{"a":1}\n{"b":2}\n')], zipfile.ZIP_STORED))
put("DocumentExtractorFuzzer", "text.rtf", r"{\rtf1\ansi\deff0{\fonttbl{\f0 Helvetica;}}{\*\generator x;}{\info{\author Jo}}"
    r"\pard Mail jo\'40acme.com caf\'e9 \u233?\u-4064? {\b bold}\par\tab card 4111\~1111 1111 1111{\field{\*\fldinst HYPERLINK x}{\fldrslt link}}}")
put("DocumentExtractorFuzzer", "page.html", "<!DOCTYPE html><html><head><title>t</title><script>var s='&amp;';</script></head>"
    "<body><p>jo&#46;smith&#64;acme-widgets&period;co&period;uk &AMP; &lt;card&gt; 4111&#x20;1111&nbsp;1111 1111 &#0; &#x110000; &bogus; &amp</p></body></html>")
put("DocumentExtractorFuzzer", "data.jsonl", '{"text":"jo@acme.com"}\n{"text":"AKIAL2YY5HLGNUZLUMHX"}\n')
put("DocumentExtractorFuzzer", "notes.txt", "plain notes: IBAN DE89 3704 0044 0532 0130 00\n=41=42 soft=\r\nbreak SGVsbG8gd29ybGQ=\n")

print("seeds written under", CORPUS)
