"""The acceptance document pass: the official openai and anthropic SDKs send generated documents through the gateway
on every arrival path to a fake vendor that records what it receives.

Judged per attempt:
- a planted or unreadable document: the client gets a 4xx, and nothing the vendor received holds the document's
  bytes or a planted value (searched in raw bodies, base64 and data-URL payloads, and multipart parts);
- a personal-data text document: 200, and none of its values reach the vendor in any of those forms;
- a clean document: 200, and the vendor received the document's exact bytes.

Usage: check.py --dir ACCEPTANCE_DIR --gateway URL --key KEY --gateway-ca CA [--json OUT]
"""
import argparse
import base64
import hashlib
import io
import json
import re
import ssl
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import openai

import documents as D

OPENAI_KEY = "sk-upstream-openai-test"
ANTHROPIC_KEY = "sk-ant-upstream-test"


class Vendor:
    def __init__(self):
        self.lock = threading.Lock()
        self.received = []

    def take(self):
        with self.lock:
            got, self.received = self.received, []
        return got


def handler(vendor):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.reply({"object": "list", "data": []})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with vendor.lock:
                vendor.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "body": body})
            now = int(time.time())
            path = self.path.split("?")[0]
            if path == "/v1/files" and "anthropic-version" in {k.lower() for k in self.headers.keys()}:
                self.reply({"id": "file_011", "type": "file", "filename": "f", "mime_type": "application/pdf",
                            "size_bytes": len(body), "created_at": "2026-01-01T00:00:00Z", "downloadable": False})
            elif path == "/v1/files":
                self.reply({"id": "file-abc", "object": "file", "bytes": len(body), "created_at": now,
                            "filename": "f", "purpose": "assistants", "status": "processed"})
            elif re.fullmatch(r"/v1/uploads/[^/]+/parts", path):
                self.reply({"id": "part_1", "object": "upload.part", "created_at": now, "upload_id": path.split("/")[3]})
            elif re.fullmatch(r"/v1/uploads/[^/]+/complete", path):
                self.reply({"id": path.split("/")[3], "object": "upload", "bytes": 1, "created_at": now, "filename": "f",
                            "purpose": "assistants", "status": "completed", "expires_at": now + 3600,
                            "file": {"id": "file-abc", "object": "file", "bytes": 1, "created_at": now,
                                     "filename": "f", "purpose": "assistants", "status": "processed"}})
            elif path == "/v1/uploads":
                self.reply({"id": "upload_abc", "object": "upload", "bytes": 1, "created_at": now, "filename": "f",
                            "purpose": "assistants", "status": "pending", "expires_at": now + 3600})
            elif path.startswith("/v1/messages"):
                self.reply({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
                            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                            "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}})
            elif path.startswith("/v1/responses"):
                self.reply({"id": "resp_1", "object": "response", "created_at": now, "status": "completed",
                            "model": "gpt-4o", "output": [{"type": "message", "id": "m", "status": "completed",
                            "role": "assistant", "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
                            "parallel_tool_calls": True, "tool_choice": "auto", "tools": []})
            else:
                self.reply({"id": "c1", "object": "chat.completion", "created": now, "model": "gpt-4o",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": "ok"}}]})

        def reply(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    return H


def start_vendor(directory, port):
    vendor = Vendor()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(vendor))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{directory}/upstream.pem", f"{directory}/upstream.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return vendor, server


# ------------------------------------------------------------------ what the vendor received, decoded

B64 = re.compile(rb"[A-Za-z0-9+/_-]{64,}={0,2}")


def payloads(record):
    """Every byte string the vendor could read in a request: the raw body, multipart parts, base64 runs decoded."""
    body = record["body"]
    found = [body]
    content_type = record["headers"].get("content-type", "")
    if "multipart/" in content_type and "boundary=" in content_type:
        boundary = content_type.split("boundary=")[1].split(";")[0].strip('"').encode()
        for part in body.split(b"--" + boundary):
            if b"\r\n\r\n" in part:
                content = part.split(b"\r\n\r\n", 1)[1]
                found.append(content[:-2] if content.endswith(b"\r\n") else content)
    if "json" in content_type:
        try:
            found += [leaf.encode() for leaf in strings(json.loads(body))]
        except ValueError:
            pass
    unescaped = body.replace(b"\\/", b"/")
    for run in B64.findall(unescaped):
        try:
            found.append(base64.b64decode(run + b"=" * (-len(run) % 4), altchars=b"-_" if b"-" in run or b"_" in run else None))
        except Exception:
            pass
    return found


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def leaks(document, received):
    """What of the document reached the vendor: its exact bytes, or a planted value in readable form."""
    if document["kind"] == "clean":
        return []
    digest = hashlib.sha256(document["data"]).digest()
    reasons = []
    for record in received:
        for payload in payloads(record):
            if hashlib.sha256(payload).digest() == digest:
                reasons.append(f"document bytes at {record['path']}")
            text = payload.decode("utf-8", "replace")
            for value in document["values"]:
                if value in text or value.replace("-", "") in text.replace("-", ""):
                    reasons.append(f"value {value[:4]}… at {record['path']}")
    return sorted(set(reasons))


def received_exact(document, received):
    digest = hashlib.sha256(document["data"]).digest()
    return any(hashlib.sha256(p).digest() == digest for r in received for p in payloads(r))


# ------------------------------------------------------------------ arrival paths

def data_url(document):
    return f"data:{document['mime']};base64," + base64.b64encode(document["data"]).decode()


def is_utf8(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def paths_for(document):
    """The arrival paths a document is sent on: every document as an upload, PDFs and text as file parts and
    document blocks, images as image parts."""
    name = document["name"]
    is_pdf = document["mime"] == "application/pdf"
    is_image = document["mime"].startswith("image/")
    paths = ["openai files.create", "openai uploads (one part)", "anthropic files.upload"]
    if is_image:
        paths += ["openai chat image_url", "openai responses input_image", "anthropic image block"]
    else:
        paths += ["openai chat file part", "openai responses input_file"]
    if is_pdf:
        paths += ["anthropic document block (base64 PDF)"]
    if document["mime"].startswith("text/") and is_utf8(document["data"]):
        paths += ["anthropic document block (text source)"]
    if name.endswith(".csv") and document["kind"] == "planted":
        paths += ["openai files.create (batch JSONL)"]
    if document["kind"] == "planted" and D.AWS_KEY.encode() in document["data"]:
        paths += ["openai uploads (two parts, split inside the key)"]
    if document["kind"] == "clean":
        paths += ["openai uploads (two parts)"]
    return paths


def send(path, document, oa, an):
    name, data, mime = document["name"], document["data"], document["mime"]
    if path == "openai files.create":
        return oa.files.create(file=(name, data, mime), purpose="assistants")
    if path == "openai files.create (batch JSONL)":
        content = data.decode("utf-8", "replace")
        return oa.files.create(file=("batch.jsonl", D.batch_file(content), "application/jsonl"), purpose="batch")
    if path == "openai uploads (one part)":
        upload = oa.uploads.create(bytes=len(data), filename=name, mime_type=mime, purpose="assistants")
        part = oa.uploads.parts.create(upload_id=upload.id, data=data)
        return oa.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    if path.startswith("openai uploads (two parts"):
        cut = data.index(D.AWS_KEY.encode()) + 8 if "split inside" in path else len(data) // 2
        upload = oa.uploads.create(bytes=len(data), filename=name, mime_type=mime, purpose="assistants")
        first = oa.uploads.parts.create(upload_id=upload.id, data=data[:cut])
        second = oa.uploads.parts.create(upload_id=upload.id, data=data[cut:])
        return oa.uploads.complete(upload_id=upload.id, part_ids=[first.id, second.id])
    if path == "anthropic files.upload":
        return an.beta.files.upload(file=(name, data, mime))
    if path == "openai chat file part":
        return oa.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": [
            {"type": "text", "text": "Summarise the attached file."},
            {"type": "file", "file": {"filename": name, "file_data": data_url(document)}}]}])
    if path == "openai responses input_file":
        return oa.responses.create(model="gpt-4o", input=[{"role": "user", "content": [
            {"type": "input_text", "text": "Summarise the attached file."},
            {"type": "input_file", "filename": name, "file_data": data_url(document)}]}])
    if path == "openai chat image_url":
        return oa.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": [
            {"type": "text", "text": "What does this show?"},
            {"type": "image_url", "image_url": {"url": data_url(document)}}]}])
    if path == "openai responses input_image":
        return oa.responses.create(model="gpt-4o", input=[{"role": "user", "content": [
            {"type": "input_text", "text": "What does this show?"},
            {"type": "input_image", "image_url": data_url(document)}]}])
    if path == "anthropic image block":
        return an.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": mime, "data": base64.b64encode(data).decode()}},
            {"type": "text", "text": "What does this show?"}]}])
    if path == "anthropic document block (base64 PDF)":
        return an.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                            "data": base64.b64encode(data).decode()}},
            {"type": "text", "text": "Summarise the document."}]}])
    if path == "anthropic document block (text source)":
        return an.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                            "data": data.decode("utf-8", "replace")}},
            {"type": "text", "text": "Summarise the document."}]}])
    raise ValueError(path)


def status_of(error):
    return getattr(error, "status_code", None) or 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--gateway-ca", required=True)
    parser.add_argument("--upstream-port", type=int, default=19443)
    parser.add_argument("--json")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDKs' notes on model names
    vendor, server = start_vendor(args.dir, args.upstream_port)
    oa = openai.OpenAI(base_url=args.gateway + "/v1", api_key=args.key, max_retries=0,
                       http_client=openai.DefaultHttpxClient(verify=args.gateway_ca, timeout=60))
    an = anthropic.Anthropic(base_url=args.gateway, api_key=args.key, max_retries=0,
                             http_client=anthropic.DefaultHttpxClient(verify=args.gateway_ca, timeout=60))

    started = time.time()
    docs = D.all_documents()
    results = []
    for document in docs:
        for path in paths_for(document):
            vendor.take()
            status, error = 200, ""
            try:
                send(path, document, oa, an)
            except (openai.APIStatusError, anthropic.APIStatusError) as e:
                status, error = status_of(e), str(e)[:200]
            except Exception as e:  # connection errors and the like: a failure, not a pass
                status, error = -1, f"{type(e).__name__}: {e}"[:200]
            got = vendor.take()
            found = leaks(document, got)
            # Every forwarded request carries the vendor's own key, never the gateway key; Anthropic's SDK requests
            # (Files API included, by route_header) reach the Anthropic route.
            for record in got:
                anthropic_call = "anthropic-version" in record["headers"]
                key = record["headers"].get("x-api-key", "") if anthropic_call else \
                    record["headers"].get("authorization", "").removeprefix("Bearer ")
                if key != (ANTHROPIC_KEY if anthropic_call else OPENAI_KEY) or args.key in json.dumps(record["headers"]):
                    found.append(f"wrong vendor key at {record['path']}")
            kind = document["kind"]
            if kind in ("planted", "unreadable"):
                ok = 400 <= status < 500 and not found
            elif kind == "personal" and path.startswith("openai uploads"):
                # The Uploads API fixes the file's size at creation, so a file needing redaction is refused there.
                ok = 400 <= status < 500 and not found
            elif kind == "personal":
                ok = status == 200 and not found
            else:
                ok = status == 200 and received_exact(document, got)
            results.append({"document": document["name"], "where": document["where"], "kind": kind, "path": path,
                            "status": status, "leaks": found, "ok": ok, "error": error})

    server.shutdown()
    failures = [r for r in results if not r["ok"]]
    leaked = [r for r in results if r["leaks"]]
    for r in failures:
        print(f"  FAIL {r['kind']:10} {r['document']:16} {r['path']:42} status {r['status']} "
              f"{'; '.join(r['leaks'])} {r['error'][:120]}")
    by_kind = {}
    for r in results:
        passed, total = by_kind.get(r["kind"], (0, 0))
        by_kind[r["kind"]] = (passed + r["ok"], total + 1)
    summary = ", ".join(f"{k} {p}/{t}" for k, (p, t) in sorted(by_kind.items()))
    print(f"documents: {len(docs)} documents, {len(results)} attempts on {len({r['path'] for r in results})} arrival "
          f"paths ({time.time() - started:.1f}s): {summary}; leaks {len(leaked)}, failures {len(failures)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(1 if failures or leaked else 0)


if __name__ == "__main__":
    main()
