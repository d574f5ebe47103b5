# Shared harness of the reliability suite (bench/reliability/*): not run on its own.
#
# What it provides (Python 3 stdlib and the `openssl` CLI only; everything on 127.0.0.1):
# - Lab:            a temporary directory (removed at exit unless kept), a lab CA and leaf certificates made with the
#                   `openssl` CLI (EC P-256; SAN, keyUsage, extendedKeyUsage, validity dates all choosable, so bad
#                   certificates can be made on purpose), and the gateway's own certificates through
#                   `gatewayctl certs init --dir LAB/certs` (nothing outside the lab directory is touched).
# - FakeVendor:     a threaded TLS HTTP/1.1 server that records every decrypted byte it receives per connection and
#                   parses requests (Content-Length and chunked), answering 200 with a small OpenAI-style (or, for
#                   /v1/messages, Anthropic-style) JSON. It can serve any certificate, or TLS 1.0 only.
# - Gateway:        writes a gateway.yaml (modelled on .ci/acceptance-gateway.yaml) with a hook for extra YAML and
#                   limits, creates keys with `gatewayctl keys create`, starts gatewayd, waits for /readyz, stops it
#                   with SIGTERM (or SIGKILL), and reads /metrics, RSS and the fd count from /proc.
# - Raw TLS client: sends raw bytes to the gateway and reads the responses with a timeout (raw_exchange), and a
#                   keep-alive HTTPS client for real requests (Client).
# - Tables:         print_table for the one summary table each script prints.
#
# Binaries: env GATEWAY_BIN_DIR, else .build/release when it holds gatewayd and gatewayctl, else .build/debug
# (relative to the repository root), resolved once per process. Rules and policy: the repository's rules/ and policy.yaml (absolute paths), or env
# GATEWAY_RULES_DIR / GATEWAY_POLICY_FILE (e.g. a copy matching an older binary while rules/ is being changed).
import atexit
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OPENAI_VENDOR_KEY = "sk-upstream-openai-test"
ANTHROPIC_VENDOR_KEY = "sk-ant-upstream-test"
OPENAI_RESPONSE = (b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",'
                   b'"content":"ok"},"finish_reason":"stop"}]}')
ANTHROPIC_RESPONSE = (b'{"id":"msg_x","type":"message","role":"assistant","model":"claude-3-5-haiku-latest",'
                      b'"content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,'
                      b'"usage":{"input_tokens":1,"output_tokens":1}}')
CHAT_BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you today?"}]}'
MESSAGES_BODY = (b'{"model":"claude-3-5-haiku-latest","max_tokens":16,'
                 b'"messages":[{"role":"user","content":"Hello there"}]}')


def log(*args):
    print(*args, file=sys.stderr, flush=True)


_bin_dir = None


def bin_dir():
    """The directory of gatewayd and gatewayctl, resolved once per process (so it cannot change during a run):
    GATEWAY_BIN_DIR, else .build/release when it holds both binaries, else .build/debug."""
    global _bin_dir
    if _bin_dir:
        return _bin_dir
    env = os.environ.get("GATEWAY_BIN_DIR")
    rel = os.path.join(REPO, ".build/release")
    if env:
        d = env if os.path.isabs(env) else os.path.join(REPO, env)
    elif all(os.access(os.path.join(rel, b), os.X_OK) for b in ("gatewayd", "gatewayctl")):
        d = rel
    else:
        d = os.path.join(REPO, ".build/debug")
    for b in ("gatewayd", "gatewayctl"):
        if not os.access(os.path.join(d, b), os.X_OK):
            raise SystemExit(f"harness: {d}/{b} not found or not executable (set GATEWAY_BIN_DIR)")
    _bin_dir = d
    return d


def rules_dir():
    return os.path.abspath(os.environ.get("GATEWAY_RULES_DIR") or os.path.join(REPO, "rules"))


def policy_file():
    return os.path.abspath(os.environ.get("GATEWAY_POLICY_FILE") or os.path.join(REPO, "policy.yaml"))


def gatewayd_path():
    return os.path.join(bin_dir(), "gatewayd")


def gatewayctl_path():
    return os.path.join(bin_dir(), "gatewayctl")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=60, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {p.returncode}\n{p.stderr.decode(errors='replace')}"
                           f"{p.stdout.decode(errors='replace')}")
    return p


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def fmt_ms(seconds):
    if seconds is None or seconds != seconds:
        return "-"
    return f"{seconds * 1000:.1f}"


def print_table(title, header, rows, file=sys.stdout):
    """One plain-text table with aligned columns."""
    rows = [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    if title:
        print(title, file=file)
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(header))
    print(line.rstrip(), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for r in rows:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip(), file=file)
    file.flush()


def write_json(path, data):
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=1, default=str)


# ---------------------------------------------------------------------------------------------------------------
# Lab directory and PKI

class Lab:
    """A temporary directory with a lab CA; removed by close() unless keep."""

    def __init__(self, prefix="gw-reliability-", keep=False):
        # SIGTERM (e.g. from run-all's timeout or a CI job) unwinds like Ctrl-C, so every `finally` stops the
        # gatewayd processes and removes the directory.
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.keep = keep
        self._serial = 0
        self.ca = self.make_ca("labca")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def close(self):
        if self.keep:
            log(f"harness: kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _openssl(self, *args, **kw):
        return run(["openssl", *args], **kw)

    def make_ca(self, name):
        d = self.path("pki", name)
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        key, pem = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", key, "-out", pem, "-days", "30", "-subj", f"/CN=Reliability Lab CA {name}",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                      "-addext", "subjectKeyIdentifier=hash")
        open(os.path.join(d, "db", "index.txt"), "w").close()
        with open(os.path.join(d, "db", "serial"), "w") as f:
            f.write("%016x\n" % random.getrandbits(63))
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(f"[ca]\ndefault_ca = lab\n[lab]\ndatabase = {d}/db/index.txt\nnew_certs_dir = {d}/db\n"
                    f"serial = {d}/db/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
                    "copy_extensions = none\n[any]\ncommonName = supplied\n")
        return {"name": name, "dir": d, "key": key, "pem": pem, "cnf": os.path.join(d, "ca.cnf")}

    def make_leaf(self, name, ca=None, cn="localhost", san="IP:127.0.0.1,DNS:localhost", eku="serverAuth",
                  key_usage="critical,digitalSignature", not_before=None, not_after=None, self_signed=False):
        """A leaf certificate; not_before/not_after are datetimes-as-strings YYYYMMDDHHMMSSZ (default now-1h/+30d).
        san=None omits the SAN extension; eku=None omits EKU. Returns (cert_pem_path, key_path)."""
        ca = ca or self.ca
        d = self.path("pki", "leaf-" + name)
        os.makedirs(d, exist_ok=True)
        key, csr, pem, ext = (os.path.join(d, f) for f in ("leaf.key", "leaf.csr", "leaf.pem", "ext.cnf"))
        lines = ["basicConstraints=critical,CA:FALSE"]
        if key_usage:
            lines.append(f"keyUsage={key_usage}")
        if eku:
            lines.append(f"extendedKeyUsage={eku}")
        if san:
            lines.append(f"subjectAltName={san}")
        lines.append("subjectKeyIdentifier=hash")
        if not self_signed:
            lines.append("authorityKeyIdentifier=keyid")
        with open(ext, "w") as f:
            f.write("\n".join(lines) + "\n")
        now = time.time()
        nb = not_before or time.strftime("%Y%m%d%H%M%SZ", time.gmtime(now - 3600))
        na = not_after or time.strftime("%Y%m%d%H%M%SZ", time.gmtime(now + 30 * 86400))
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        if self_signed:
            self._openssl("ca", "-batch", "-selfsign", "-config", ca["cnf"], "-keyfile", key, "-in", csr,
                          "-out", pem, "-startdate", nb, "-enddate", na, "-extfile", ext, "-notext")
        else:
            self._openssl("ca", "-batch", "-config", ca["cnf"], "-cert", ca["pem"], "-keyfile", ca["key"],
                          "-in", csr, "-out", pem, "-startdate", nb, "-enddate", na, "-extfile", ext, "-notext")
        return pem, key

    def gateway_certs(self):
        """`gatewayctl certs init --dir LAB/certs`: the gateway's CA and server certificate."""
        d = self.path("certs")
        if not os.path.exists(os.path.join(d, "server.pem")):
            run([gatewayctl_path(), "certs", "init", "--dir", d])
        return {"dir": d, "ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
                "key": os.path.join(d, "server.key")}


# ---------------------------------------------------------------------------------------------------------------
# Fake vendor

class CapturedRequest:
    __slots__ = ("conn", "seq", "time", "method", "target", "version", "headers", "body", "raw", "error")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def header_values(self, name):
        n = name.lower()
        return [v for (k, v) in self.headers if k.lower() == n]


class RequestParseError(Exception):
    pass


def parse_one_request(buf):
    """Parse one HTTP/1.1 request from the start of buf (bytes). Returns (request dict, consumed) or None when more
    bytes are needed; raises RequestParseError on malformed input."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > 1 << 20:
            raise RequestParseError("head over 1 MiB")
        return None
    head = buf[:end]
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        raise RequestParseError(f"bad request line {lines[0][:80]!r}")
    method, target, version = (p.decode("latin-1") for p in parts)
    headers = []
    for ln in lines[1:]:
        if b":" not in ln:
            raise RequestParseError(f"bad header line {ln[:80]!r}")
        k, v = ln.split(b":", 1)
        headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
    pos = end + 4
    te = [v for k, v in headers if k.lower() == "transfer-encoding"]
    cl = [v for k, v in headers if k.lower() == "content-length"]
    if te:
        if [t.strip().lower() for t in ",".join(te).split(",")] != ["chunked"]:
            raise RequestParseError(f"transfer-encoding {te!r}")
        body = b""
        while True:
            le = buf.find(b"\r\n", pos)
            if le < 0:
                return None
            size_s = buf[pos:le].split(b";", 1)[0].strip()
            try:
                size = int(size_s, 16)
            except ValueError:
                raise RequestParseError(f"chunk size {size_s[:40]!r}")
            pos = le + 2
            if size == 0:
                # trailers until an empty line
                while True:
                    le = buf.find(b"\r\n", pos)
                    if le < 0:
                        return None
                    line = buf[pos:le]
                    pos = le + 2
                    if not line:
                        break
                break
            if len(buf) < pos + size + 2:
                return None
            body += buf[pos:pos + size]
            if buf[pos + size:pos + size + 2] != b"\r\n":
                raise RequestParseError("chunk data not followed by CRLF")
            pos += size + 2
    elif cl:
        if len(set(cl)) != 1 or not cl[0].isdigit():
            raise RequestParseError(f"content-length {cl!r}")
        n = int(cl[0])
        if len(buf) < pos + n:
            return None
        body = buf[pos:pos + n]
        pos += n
    else:
        body = b""
    return {"method": method, "target": target, "version": version, "headers": headers, "body": body,
            "raw": buf[:pos]}, pos


class FakeVendor:
    """Threaded TLS HTTP/1.1 server recording every byte it receives.

    raw:        list of (connection id, bytes) in arrival order (decrypted application data)
    requests:   list of CapturedRequest, parsed in arrival order
    handshakes: list of (connection id, "ok" | error text)
    """

    def __init__(self, cert, key, port=0, tls10_only=False, delay=0.0):
        self.cert, self.key = cert, key
        self.tls10_only = tls10_only
        self.delay = delay
        self.lock = threading.Lock()
        self.raw = []
        self.requests = []
        self.handshakes = []
        self.parse_errors = []
        self.conn_count = 0
        self._conns = set()
        self._halt = threading.Event()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if tls10_only:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        self.ctx = ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(512)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def base_url(self):
        return f"https://127.0.0.1:{self.port}"

    # -- snapshots for per-variant deltas
    def mark(self):
        with self.lock:
            return (len(self.raw), len(self.requests), len(self.handshakes), len(self.parse_errors))

    def since(self, mark):
        with self.lock:
            return {"raw": list(self.raw[mark[0]:]), "requests": list(self.requests[mark[1]:]),
                    "handshakes": list(self.handshakes[mark[2]:]), "parse_errors": list(self.parse_errors[mark[3]:])}

    def raw_bytes(self):
        with self.lock:
            return b"".join(b for _, b in self.raw)

    def _accept_loop(self):
        while not self._halt.is_set():
            try:
                s, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            with self.lock:
                self.conn_count += 1
                cid = self.conn_count
            threading.Thread(target=self._serve, args=(s, cid), daemon=True).start()

    def _serve(self, s, cid):
        s.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(s, server_side=True, do_handshake_on_connect=False)
        except OSError as e:
            with self.lock:
                self.handshakes.append((cid, f"wrap: {e}"))
            s.close()
            return
        with self.lock:
            self._conns.add(tls)
        try:
            try:
                tls.do_handshake()
            except (OSError, ssl.SSLError) as e:
                with self.lock:
                    self.handshakes.append((cid, f"{type(e).__name__}: {e}"))
                return
            with self.lock:
                self.handshakes.append((cid, "ok"))
            tls.settimeout(120)
            buf = b""
            while not self._halt.is_set():
                try:
                    data = tls.recv(65536)
                except (OSError, ssl.SSLError):
                    return
                if not data:
                    return
                with self.lock:
                    self.raw.append((cid, data))
                buf += data
                while True:
                    try:
                        parsed = parse_one_request(buf)
                    except RequestParseError as e:
                        with self.lock:
                            self.parse_errors.append((cid, str(e), buf[:200]))
                        return
                    if parsed is None:
                        break
                    req, used = parsed
                    buf = buf[used:]
                    with self.lock:
                        self.requests.append(CapturedRequest(conn=cid, seq=len(self.requests) + 1,
                                                             time=time.monotonic(), **req))
                    if self.delay:
                        time.sleep(self.delay)
                    body = ANTHROPIC_RESPONSE if req["target"].startswith("/v1/messages") else OPENAI_RESPONSE
                    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                            + str(len(body)).encode() + b"\r\n\r\n" + body)
                    try:
                        tls.sendall(resp)
                    except OSError:
                        return
        finally:
            with self.lock:
                self._conns.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def close(self):
        self._halt.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(timeout=2)


def tls10_serving_check(vendor):
    """Can this vendor actually complete a TLS 1.0 handshake? Returns (True, "") or (False, reason)."""
    try:
        p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{vendor.port}", "-tls1",
                            "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True, timeout=10)
    except Exception as e:  # noqa: BLE001
        return False, f"openssl s_client: {e}"
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    m = re.search(r"Protocol\s*:\s*(\S+)", out)
    if p.returncode == 0 and m and m.group(1) == "TLSv1":
        return True, ""
    first = [ln for ln in out.splitlines() if "error" in ln.lower() or "alert" in ln.lower()]
    return False, "local OpenSSL would not complete a TLS 1.0 handshake: " + (first[0][:160] if first else out[-160:])


# ---------------------------------------------------------------------------------------------------------------
# Gateway

_started_gateways = []


def _stop_started_gateways():
    for g in _started_gateways:
        try:
            if g.alive():
                g.proc.kill()
                g.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            pass


atexit.register(_stop_started_gateways)


class Gateway:
    """A gatewayd with its own config, keys file and audit directory inside the lab."""

    def __init__(self, lab, vendor_url, vendor_ca, name="gw", extra_yaml="", limits=None, anthropic_url=None):
        _started_gateways.append(self)
        self.lab = lab
        self.name = name
        self.dir = lab.path(name)
        os.makedirs(self.dir, exist_ok=True)
        self.certs = lab.gateway_certs()
        self.port = free_port()
        self.admin_port = free_port()
        self.vendor_url = vendor_url
        self.anthropic_url = anthropic_url or vendor_url
        self.vendor_ca = vendor_ca
        self.extra_yaml = extra_yaml
        self.limits = dict(limits or {})
        self.audit_dir = os.path.join(self.dir, "var", "audit")
        self.keys_file = os.path.join(self.dir, "var", "keys.json")
        self.config = os.path.join(self.dir, "gateway.yaml")
        self.log_path = os.path.join(self.dir, "gatewayd.log")
        self.proc = None
        self._log_file = None
        self.write_config()

    def write_config(self, limits=None):
        limits = self.limits if limits is None else limits
        y = [
            "# written by bench/reliability/harness.py",
            "listen:",
            "  address: 127.0.0.1",
            f"  port: {self.port}",
            f"  tls: {{certificate: {self.certs['cert']}, key: {self.certs['key']}}}",
            "admin:",
            "  address: 127.0.0.1",
            f"  port: {self.admin_port}",
            "providers:",
            "  - name: openai",
            f"    base_url: {self.vendor_url}",
            "    paths: [/v1/chat/completions, /v1/responses, /v1/embeddings, /v1/models]",
            f'    credential: {{header: Authorization, value: "Bearer {OPENAI_VENDOR_KEY}"}}',
            f"    ca_file: {self.vendor_ca}",
            "  - name: anthropic",
            f"    base_url: {self.anthropic_url}",
            "    paths: [/v1/messages]",
            f'    credential: {{header: x-api-key, value: "{ANTHROPIC_VENDOR_KEY}"}}',
            f"    ca_file: {self.vendor_ca}",
            f"rules: {{directory: {rules_dir()}}}",
            f"policy: {{file: {policy_file()}}}",
            f"keys: {{file: {self.keys_file}}}",
            f"audit: {{directory: {self.audit_dir}}}",
        ]
        if limits:
            y.append("limits:")
            for k, v in limits.items():
                y.append(f"  {k}: {v}")
        if self.extra_yaml:
            y.append(self.extra_yaml.rstrip("\n"))
        with open(self.config, "w") as f:
            f.write("\n".join(y) + "\n")

    def config_check(self):
        p = run([gatewayctl_path(), "config", "check", self.config], check=False)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    def apply_limits(self, wanted):
        """Write the limits that this build accepts; return (applied dict, unsupported dict with the reason)."""
        applied, unsupported = {}, {}
        for k, v in wanted.items():
            self.write_config(limits={**applied, k: v})
            rc, out = self.config_check()
            if rc == 0:
                applied[k] = v
            else:
                lines = [ln.strip() for ln in out.splitlines() if k in ln] or out.strip().splitlines()[-1:]
                unsupported[k] = (v, lines[0][:140] if lines else f"config check exit {rc}")
        self.limits = applied
        self.write_config()
        return applied, unsupported

    def create_key(self, user="reliability", role="engineer"):
        p = run([gatewayctl_path(), "keys", "create", "--config", self.config, "--user", user, "--role", role])
        key = p.stdout.decode().strip().splitlines()[-1].strip()
        if not key.startswith("gwk_"):
            raise RuntimeError(f"keys create printed {key!r}")
        return key

    def start(self, wait=True, timeout=60):
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen([gatewayd_path(), "--config", self.config], stdout=self._log_file,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        if wait:
            self.wait_ready(timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def admin_get(self, path, timeout=2.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"gatewayd exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                st, _ = self.admin_get("/readyz", timeout=1)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gatewayd not ready within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout=40):
        """SIGTERM and wait; SIGKILL after timeout. Returns the exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        rc = self.proc.returncode
        self._close_log()
        return rc

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self):
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def metrics(self):
        """The /metrics text (or "" when unreachable)."""
        try:
            st, body = self.admin_get("/metrics", timeout=3)
            return body.decode(errors="replace") if st == 200 else ""
        except OSError:
            return ""

    def rss_kb(self):
        return proc_rss_kb(self.pid)

    def fd_count(self):
        return proc_fd_count(self.pid)

    def client(self, timeout=10):
        return Client(self.port, self.certs["ca"], timeout=timeout)


def _die_with_parent():
    """In the child before exec: SIGKILL it when the script that started it dies (even by SIGKILL)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except OSError:
        return None
    return None


def proc_fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def metric_lines(text, prefix):
    return [ln for ln in text.splitlines() if ln.startswith(prefix)]


def metric_sum(text, name):
    """Sum of every sample of metric `name` (all label sets)."""
    total, found = 0.0, False
    for ln in text.splitlines():
        if ln.startswith(name + "{") or ln.startswith(name + " "):
            try:
                total += float(ln.rsplit(" ", 1)[1])
                found = True
            except ValueError:
                pass
    return total if found else None


# ---------------------------------------------------------------------------------------------------------------
# Clients

def client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the gateway's dev certificate names localhost and 127.0.0.1; IP check is fine too
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def tls_connect(port, cafile, timeout=5.0, ctx=None):
    ctx = ctx or client_context(cafile)
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        t = ctx.wrap_socket(s, server_hostname="localhost")
    except Exception:
        s.close()
        raise
    t.settimeout(timeout)
    return t


class ParsedResponse:
    __slots__ = ("status", "reason", "headers", "body", "raw")

    def __init__(self, status, reason, headers, body, raw):
        self.status, self.reason, self.headers, self.body, self.raw = status, reason, headers, body, raw

    def header(self, name):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return None


def parse_responses(buf, closed):
    """Parse as many complete HTTP/1.1 responses as buf holds. Returns (responses, leftover, garbage)."""
    out = []
    pos = 0
    while pos < len(buf):
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = buf[pos:end].split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ?(.*)", head[0])
        if not m:
            return out, buf[pos:], True
        status = int(m.group(1))
        headers = []
        for ln in head[1:]:
            if b":" in ln:
                k, v = ln.split(b":", 1)
                headers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
        body_start = end + 4
        hmap = {k.lower(): v for k, v in headers}
        if 100 <= status < 200 or status in (204, 304):
            body, nxt = b"", body_start
        elif "chunked" in hmap.get("transfer-encoding", "").lower():
            p = body_start
            body = b""
            done = False
            while True:
                le = buf.find(b"\r\n", p)
                if le < 0:
                    break
                try:
                    size = int(buf[p:le].split(b";")[0].strip(), 16)
                except ValueError:
                    return out, buf[pos:], True
                if size == 0:
                    te = buf.find(b"\r\n\r\n", le)
                    if te < 0 and buf[le:le + 4] != b"\r\n\r\n":
                        # trailer-less end: "0\r\n\r\n"
                        if buf[le + 2:le + 4] == b"\r\n":
                            p = le + 4
                            done = True
                        break
                    p = (le + 4) if buf[le + 2:le + 4] == b"\r\n" else te + 4
                    done = True
                    break
                if len(buf) < le + 2 + size + 2:
                    break
                body += buf[le + 2:le + 2 + size]
                p = le + 2 + size + 2
            if not done:
                break
            nxt = p
        elif "content-length" in hmap:
            try:
                n = int(hmap["content-length"])
            except ValueError:
                return out, buf[pos:], True
            if len(buf) < body_start + n:
                break
            body, nxt = buf[body_start:body_start + n], body_start + n
        else:
            if not closed:
                break
            body, nxt = buf[body_start:], len(buf)
        out.append(ParsedResponse(status, m.group(2).decode("latin-1"), headers, body, buf[pos:nxt]))
        pos = nxt
    return out, buf[pos:], False


def raw_exchange(port, cafile, payload, timeout=5.0, grace=0.5, send_parts=None, part_delay=0.0, ctx=None):
    """Send raw bytes over TLS and read until the server closes, or `grace` seconds pass with no new bytes after at
    least one final response, or `timeout` seconds pass in total. Returns a dict:
    responses (final ones, in order), interim (1xx), closed (server closed or reset), timed_out, raw, error."""
    result = {"responses": [], "interim": [], "closed": False, "timed_out": False, "raw": b"", "error": None,
              "garbage": False}
    try:
        s = tls_connect(port, cafile, timeout=timeout, ctx=ctx)
    except Exception as e:  # noqa: BLE001
        result["error"] = f"connect: {type(e).__name__}: {e}"
        result["closed"] = True
        return result
    buf = b""
    start = time.monotonic()
    try:
        try:
            if send_parts:
                for i, part in enumerate(send_parts):
                    if i and part_delay:
                        time.sleep(part_delay)
                    s.sendall(part)
            else:
                s.sendall(payload)
        except (OSError, ssl.SSLError) as e:
            result["error"] = f"send: {type(e).__name__}"
        last_data = time.monotonic()
        while True:
            now = time.monotonic()
            resps, _, garbage = parse_responses(buf, False)
            finals = [r for r in resps if r.status >= 200]
            if finals and now - last_data >= grace:
                break
            if now - start >= timeout:
                result["timed_out"] = True
                break
            wait = min(timeout - (now - start), grace if finals else 0.25)
            s.settimeout(max(0.01, wait))
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except ssl.SSLWantReadError:
                continue
            except (OSError, ssl.SSLError) as e:
                result["closed"] = True
                if not isinstance(e, (ssl.SSLZeroReturnError, ssl.SSLEOFError)):
                    result["error"] = result["error"] or f"recv: {type(e).__name__}"
                break
            if not data:
                result["closed"] = True
                break
            buf += data
            last_data = time.monotonic()
    finally:
        try:
            s.close()
        except OSError:
            pass
    resps, _, garbage = parse_responses(buf, result["closed"])
    result["responses"] = [r for r in resps if r.status >= 200]
    result["interim"] = [r for r in resps if r.status < 200]
    result["raw"] = buf
    result["garbage"] = garbage
    return result


class Client:
    """Keep-alive HTTPS client to the gateway (http.client), reconnecting when the server closed."""

    def __init__(self, port, cafile, timeout=10):
        self.port, self.timeout = port, timeout
        self.ctx = client_context(cafile)
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout, context=self.ctx)

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers dict lower-case, body bytes). Raises on transport errors."""
        if self.conn is None:
            self._connect()
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if r.will_close:
                self.close()
            return r.status, hdrs, data
        except Exception:
            self.close()
            raise

    def chat(self, key, body=CHAT_BODY):
        return self.request("POST", "/v1/chat/completions", body=body,
                            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass
            self.conn = None


class Probe(threading.Thread):
    """Sequential real requests throughout a run; latencies and errors per labelled phase."""

    def __init__(self, gateway, key, interval=0.05, timeout=10):
        super().__init__(daemon=True)
        self.gw, self.key, self.interval, self.timeout = gateway, key, interval, timeout
        self.phase = "baseline"
        self.samples = collections.defaultdict(list)   # phase -> [latency s]
        self.errors = collections.defaultdict(list)    # phase -> [text]
        self._halt = threading.Event()
        self.lock = threading.Lock()

    def set_phase(self, name):
        with self.lock:
            self.phase = name

    def run(self):
        c = self.gw.client(timeout=self.timeout)
        first = True
        while not self._halt.is_set():
            with self.lock:
                phase = "warmup" if first else self.phase  # the first request pays the TLS handshake
            first = False
            t0 = time.monotonic()
            try:
                st, _, _ = c.chat(self.key)
                dt = time.monotonic() - t0
                with self.lock:
                    if st == 200:
                        self.samples[phase].append(dt)
                    else:
                        self.errors[phase].append(f"status {st}")
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.errors[phase].append(f"{type(e).__name__}: {e}"[:120])
                c.close()
            self._halt.wait(self.interval)
        c.close()

    def stop(self):
        self._halt.set()
        self.join(timeout=self.timeout + 5)

    def stats(self, phase):
        with self.lock:
            s = list(self.samples.get(phase, []))
            e = list(self.errors.get(phase, []))
        return {"n": len(s), "p50": percentile(s, 50), "p99": percentile(s, 99), "errors": len(e),
                "error_samples": e[:5]}


class RSSSampler(threading.Thread):
    """RSS (kB) and fd count of a pid every `interval` seconds, labelled by phase."""

    def __init__(self, pid_fn, interval=0.5):
        super().__init__(daemon=True)
        self.pid_fn, self.interval = pid_fn, interval
        self.phase = "baseline"
        self.rss = collections.defaultdict(list)
        self.fds = collections.defaultdict(list)
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            pid = self.pid_fn()
            if pid:
                r, f = proc_rss_kb(pid), proc_fd_count(pid)
                if r is not None:
                    self.rss[self.phase].append(r)
                if f is not None:
                    self.fds[self.phase].append(f)
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(timeout=5)


# ---------------------------------------------------------------------------------------------------------------
# Audit records

def audit_lines(audit_dir):
    """Every parsed line of every decision-log segment, in segment order: (file, line no, dict or None)."""
    out = []
    for name in sorted(os.listdir(audit_dir)):
        if not re.match(r"audit-\d+\.jsonl$", name):
            continue
        with open(os.path.join(audit_dir, name), "rb") as f:
            data = f.read()
        for i, ln in enumerate(data.split(b"\n"), 1):
            ln = ln.rstrip(b"\x00")
            if not ln:
                continue
            try:
                out.append((name, i, json.loads(ln)))
            except ValueError:
                out.append((name, i, None))
    return out


def verify_log(audit_dir, key_file=None, quarantine_key_file=None, timeout=120):
    cmd = [gatewayctl_path(), "log", "verify", "--dir", audit_dir]
    if key_file:
        cmd += ["--key-file", key_file]
    if quarantine_key_file:
        cmd += ["--quarantine-key-file", quarantine_key_file]
    p = run(cmd, check=False, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace").strip()
