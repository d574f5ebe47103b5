#!/usr/bin/env python3
"""Rebuilds realworld.jsonl: an evaluation set taken from the published test fixtures of established secret and
PII scanners (gitleaks, detect-secrets, Presidio, Nosey Parker, TruffleHog, Microsoft Recognizers-Text).

Usage:  python3 build.py [--mirror DIR] [--out realworld.jsonl] [--review review.txt]

Each source is read from a bare git snapshot under DIR (default /work/.mirror/<owner>+<name>/repo), at the commit
recorded in SOURCES below (the build refuses a snapshot whose HEAD differs, so the set is reproducible).
Nothing here is generated: every sample text is a fixture string as published (or, for gitleaks'
GenerateSampleSecrets, the library's fixed context templates filled with a literal fixture secret), and every
labelled value is a substring of it. Values produced by random generators in the fixtures are dropped.

Section 1 is a small evaluator for Go string expressions (gitleaks and TruffleHog fixtures are Go source).

Section 1: a small evaluator for the Go string expressions found in scanner test fixtures.

It understands string literals (raw and interpreted), `+` concatenation, package-level string
variables, `[]string{...}` / `[]struct{...}{...}` / `map[..]..{...}` composite literals, `append`,
`fmt.Sprintf` (%s %d %v %q), `strings.Repeat`, and gitleaks' `utils.GenerateSampleSecret(s)` with
literal arguments. Anything else (random generators such as `secrets.NewSecret`) evaluates to
UNKNOWN, so samples built from it are dropped: only values that appear literally in the fixture
source are kept.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import types
from collections import Counter, OrderedDict, defaultdict


class _Unknown:
    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = _Unknown()


class Sample(str):
    """A string produced from a template with a known secret (gitleaks GenerateSampleSecrets)."""

    secret = None
    template = None

    def __new__(cls, text, secret=None, template=None):
        s = str.__new__(cls, text)
        s.secret = secret
        s.template = template
        return s


# ---------------------------------------------------------------- lexer
_OPS = ["...", ":=", "==", "!=", "<=", ">=", "&&", "||", "+=", "<-", "++", "--"]


def lex(src):
    toks = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == "`":
            j = src.find("`", i + 1)
            toks.append(("str", src[i + 1:j].replace("\r", "")))
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            buf = []
            while src[j] != '"':
                if src[j] == "\\":
                    esc, j = _escape(src, j)
                    buf.append(esc)
                else:
                    buf.append(src[j])
                    j += 1
            toks.append(("str", "".join(buf)))
            i = j + 1
            continue
        if c == "'":
            j = i + 1
            if src[j] == "\\":
                val, j = _escape(src, j)
            else:
                val = src[j]
                j += 1
            toks.append(("rune", val))
            i = j + 1
            continue
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(src, i)
        if m:
            toks.append(("ident", m.group()))
            i = m.end()
            continue
        m = re.compile(r"0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9]+)?").match(src, i)
        if m:
            toks.append(("num", m.group()))
            i = m.end()
            continue
        for op in _OPS:
            if src.startswith(op, i):
                toks.append(("op", op))
                i += len(op)
                break
        else:
            toks.append(("op", c))
            i += 1
    return toks


def _escape(src, j):
    c = src[j + 1]
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
              "f": "\f", "v": "\v"}
    if c in simple:
        return simple[c], j + 2
    if c == "x":
        return chr(int(src[j + 2:j + 4], 16)), j + 4  # NB: byte value; fine for ASCII fixtures
    if c == "u":
        return chr(int(src[j + 2:j + 6], 16)), j + 6
    if c == "U":
        return chr(int(src[j + 2:j + 10], 16)), j + 10
    if c in "01234567":
        return chr(int(src[j + 1:j + 4], 8)), j + 4
    raise ValueError("bad escape %r" % src[j:j + 4])


# ---------------------------------------------------------------- GenerateSampleSecrets templates
# Copied from gitleaks cmd/generate/config/utils/generate.go (the active, non-TODO entries).
GITLEAKS_SAMPLE_TEMPLATES = {
    "ini - quoted1": "{i}Token=\"{s}\"",
    "ini - quoted2": "{i}Token = \"{s}\"",
    "ini - unquoted1": "{i}Token={s}",
    "ini - unquoted2": "{i}Token = {s}",
    "json - string": "{\n    \"{i}_token\": \"{s}\"\n}",
    "json - escaped newline in string": "{\"config.ini\": \"{I}_TOKEN={s}\\nBACKUP_ENABLED=true\"}",
    "xml - element multiline": "<{i}Token>\n    {s}\n</{i}Token>",
    "yaml - singleline - unquoted": "{i}_token: {s}",
    "yaml - singleline - single quote": "{i}_token: '{s}'",
    "yaml - singleline - double quote": "{i}_token: \"{s}\"",
    "C#": "string {i}Token = \"{s}\";",
    "go - normal": "var {i}Token string = \"{s}\"",
    "go - short": "{i}Token := \"{s}\"",
    "go - backticks": "{i}Token := `{s}`",
    "java": "String {i}Token = \"{s}\";",
    "kotlin - notype": "var {i}Token = \"{s}\"",
    "php - string concat": "${i}Token .= \"{s}\"",
    "python - single quote": "{i}Token = '{s}'",
    "python - double quote": "{i}Token = \"{s}\"",
    "misc - comma operator": "System.setProperty(\"{I}_TOKEN\", \"{s}\")",
    "logstash": "  \"{i}Token\" => \"{s}\"",
    "make - recursive assignment": "{i}_TOKEN = \"{s}\"",
    "make - simple assignment": "{i}_TOKEN := \"{s}\"",
    "make - shell assignment": "{i}_TOKEN ::= \"{s}\"",
    "make - evaluated shell assignment": "{i}_TOKEN :::= \"{s}\"",
    "make - conditional assignment": "{i}_TOKEN ?= \"{s}\"",
}


def generate_sample_secrets(identifier, secret):
    out = []
    for name, tpl in GITLEAKS_SAMPLE_TEMPLATES.items():
        text = tpl.replace("{i}", identifier).replace("{I}", identifier.upper()).replace("{s}", secret)
        out.append(Sample(text, secret, name))
    return out


def generate_sample_secret(identifier, secret):
    return Sample('%s_api_token = "%s"' % (identifier, secret), secret, "GenerateSampleSecret")


# ---------------------------------------------------------------- parser / evaluator
class Parser:
    def __init__(self, toks, env=None):
        self.t = toks
        self.i = 0
        self.env = env if env is not None else {}

    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else ("eof", None)

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def accept(self, val):
        if self.peek()[1] == val and self.peek()[0] in ("op", "ident"):
            self.i += 1
            return True
        return False

    def expect(self, val):
        if not self.accept(val):
            raise SyntaxError("expected %r at %r" % (val, self.t[self.i:self.i + 5]))

    def skip_balanced(self, open_, close):
        depth = 0
        while True:
            kind, v = self.next()
            if kind == "eof":
                raise SyntaxError("unbalanced")
            if kind == "op" and v == open_:
                depth += 1
            elif kind == "op" and v == close:
                depth -= 1
                if depth == 0:
                    return

    # expr := unary (('+') unary)*
    def expr(self):
        left = self.unary()
        while self.peek() == ("op", "+"):
            self.next()
            right = self.unary()
            if isinstance(left, str) and isinstance(right, str):
                left = left + right
            else:
                left = UNKNOWN
        # comparison or other binary operators make the value unknown
        while self.peek()[0] == "op" and self.peek()[1] in ("==", "!=", "*", "-", "/", "%", "&&", "||", "<", ">"):
            self.next()
            self.unary()
            left = UNKNOWN
        return left

    def unary(self):
        if self.peek() in (("op", "&"), ("op", "-"), ("op", "!"), ("op", "*")):
            self.next()
            self.unary()
            return UNKNOWN
        val = self.primary()
        while True:
            if self.peek() == ("op", "["):
                self.skip_balanced("[", "]")
                val = UNKNOWN
            elif self.peek() == ("op", ".") and self.peek(1)[0] == "ident":
                self.next()
                self.next()
                if self.peek() == ("op", "("):
                    self.call_args()
                val = UNKNOWN
            else:
                return val

    def call_args(self):
        self.expect("(")
        args = []
        spread = False
        while not self.accept(")"):
            args.append(self.expr())
            if self.accept("..."):
                spread = True
            self.accept(",")
        return args, spread

    def type_then_literal(self):
        """At '[' ']' T '{' or map[...]T '{' or struct{...}{: parse the type, then the literal."""
        is_map = False
        if self.peek() == ("ident", "map"):
            self.next()
            self.skip_balanced("[", "]")
            is_map = True
        else:
            self.expect("[")
            self.accept("...")
            while not self.accept("]"):
                self.next()
        self.skip_type()
        if self.peek() == ("op", "("):  # a conversion such as []byte("...")
            args, _ = self.call_args()
            return args[0] if args else UNKNOWN
        return self.composite(is_map)

    def skip_type(self):
        while True:
            kind, v = self.peek()
            if kind == "op" and v == "*":
                self.next()
            elif kind == "op" and v == "[":
                self.skip_balanced("[", "]")
            elif kind == "ident" and v in ("struct", "interface"):
                self.next()
                self.skip_balanced("{", "}")
                return
            elif kind == "ident" and v == "map":
                self.next()
                self.skip_balanced("[", "]")
            elif kind == "ident":
                self.next()
                if self.peek() == ("op", ".") and self.peek(1)[0] == "ident":
                    self.next()
                    self.next()
                return
            else:
                return

    def composite(self, is_map=False):
        self.expect("{")
        items = []
        keyed = {}
        while not self.accept("}"):
            if self.peek()[0] == "ident" and self.peek(1) == ("op", ":"):
                val = self.next()[1]  # a struct field name
            elif self.peek() == ("op", "{"):
                val = self.composite()
            else:
                val = self.expr()
            if self.accept(":"):
                if self.peek() == ("op", "{"):
                    v2 = self.composite()
                else:
                    v2 = self.expr()
                key = val if isinstance(val, str) else repr(val)
                keyed[key] = v2
            else:
                items.append(val)
            self.accept(",")
        if keyed and not items:
            return keyed
        return items

    def primary(self):
        kind, v = self.peek()
        if kind == "str":
            self.next()
            return v
        if kind in ("num", "rune"):
            self.next()
            return UNKNOWN if kind == "rune" else v
        if kind == "op" and v == "(":
            self.next()
            val = self.expr()
            self.expect(")")
            return val
        if kind == "op" and v == "[":
            return self.type_then_literal()
        if kind == "op" and v == "{":
            return self.composite()
        if kind == "ident" and v == "map":
            return self.type_then_literal()
        if kind == "ident" and v == "func":
            # function literal: skip signature and body
            self.next()
            self.skip_balanced("(", ")")
            while self.peek() != ("op", "{"):
                self.next()
            self.skip_balanced("{", "}")
            return UNKNOWN
        if kind == "ident" and v == "struct":
            self.next()
            self.skip_balanced("{", "}")
            return self.composite()
        if kind == "ident":
            self.next()
            name = v
            while self.peek() == ("op", ".") and self.peek(1)[0] == "ident":
                self.next()
                name += "." + self.next()[1]
            if self.peek() == ("op", "("):
                args, spread = self.call_args()
                return self.call(name, args, spread)
            if self.peek() == ("op", "{") and name[:1].isupper() or (self.peek() == ("op", "{") and "." in name):
                return self.composite()
            if name in ("nil",):
                return []
            if name in ("true", "false"):
                return name
            return self.env.get(name, UNKNOWN)
        raise SyntaxError("unexpected %r" % (self.peek(),))

    def call(self, name, args, spread):
        short = name.split(".")[-1]
        if short == "append":
            base = args[0] if isinstance(args[0], list) else []
            out = list(base)
            for a in args[1:]:
                if isinstance(a, list):
                    out.extend(a)
                else:
                    out.append(a)
            return out
        if short == "GenerateSampleSecrets":
            if all(isinstance(a, str) for a in args):
                return generate_sample_secrets(args[0], args[1])
            return [UNKNOWN]
        if short == "GenerateSampleSecret":
            if all(isinstance(a, str) for a in args):
                return generate_sample_secret(args[0], args[1])
            return UNKNOWN
        if name == "fmt.Sprintf":
            return go_sprintf(args[0], args[1:])
        if name == "strings.Repeat":
            if isinstance(args[0], str) and isinstance(args[1], str) and args[1].isdigit():
                return args[0] * int(args[1])
            return UNKNOWN
        if name in ("string", "strings.TrimSpace") and len(args) == 1:
            a = args[0]
            return a.strip() if (name == "strings.TrimSpace" and isinstance(a, str)) else a
        if name == "strings.ReplaceAll" and all(isinstance(a, str) for a in args):
            return args[0].replace(args[1], args[2])
        return UNKNOWN


def go_sprintf(fmt, args):
    if not isinstance(fmt, str) or any(not isinstance(a, str) for a in args):
        return UNKNOWN
    it = iter(args)
    out = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%":
            d = fmt[i + 1]
            if d == "%":
                out.append("%")
            elif d in "sdv":
                out.append(next(it))
            elif d == "q":
                out.append('"' + next(it).replace("\\", "\\\\").replace('"', '\\"') + '"')
            else:
                return UNKNOWN
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def package_env(src):
    """Evaluate package-level `var`/`const` string declarations (in order, so later ones may use earlier)."""
    toks = lex(src)
    env = {}
    i = 0
    depth = 0
    while i < len(toks):
        kind, v = toks[i]
        if kind == "op" and v in "{(":
            # only track braces of func bodies; var ( ... ) blocks are handled below
            if v == "{":
                depth += 1
        elif kind == "op" and v == "}":
            depth -= 1
        elif depth == 0 and kind == "ident" and v in ("var", "const"):
            if toks[i + 1] == ("op", "("):
                j = i + 2
                while toks[j] != ("op", ")"):
                    j = _decl(toks, j, env)
                i = j
            else:
                i = _decl(toks, i + 1, env) - 1
        i += 1
    return env


def _decl(toks, j, env):
    names = [toks[j][1]]
    j += 1
    while toks[j] == ("op", ","):
        names.append(toks[j + 1][1])
        j += 2
    # optional type
    while toks[j] != ("op", "=") and toks[j] != ("op", ")") and toks[j][0] != "eof":
        if toks[j][0] == "ident" and toks[j + 1][0] == "ident" and toks[j + 1][1] in names:
            break
        j += 1
        if toks[j - 1][0] == "ident" and toks[j] != ("op", "=") and toks[j][0] == "ident":
            # `var x T` followed by a new decl: no value
            return j
    if toks[j] != ("op", "="):
        return j
    p = Parser(toks, env)
    p.i = j + 1
    try:
        vals = [p.expr()]
        while p.accept(","):
            vals.append(p.expr())
    except (SyntaxError, IndexError, ValueError):
        vals = [UNKNOWN] * len(names)
        # resync: skip to the end of the line-ish
        p.i = j + 1
        while p.peek()[0] != "eof" and not (p.peek()[0] == "ident" and p.peek(1) in (("op", "="), ("op", ","))):
            p.next()
    for name, val in zip(names, vals):
        env[name] = val
    return p.i


# ================================================================ Section 2: sources, output records
SOURCES = OrderedDict([
    # key: (GitHub repo, mirror dir name, commit, licence, short tag)
    ("gitleaks", ("gitleaks/gitleaks", "gitleaks+gitleaks", "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b", "MIT")),
    ("detect-secrets", ("Yelp/detect-secrets", "Yelp+detect-secrets", "5e141933554a0b74e7341841f318be21e895339c",
                        "Apache-2.0")),
    ("noseyparker", ("praetorian-inc/noseyparker", "praetorian-inc+noseyparker",
                     "2e6e7f36ce36619852532bbe698d8cb7a26d2da7", "Apache-2.0")),
    ("trufflehog", ("trufflesecurity/trufflehog", "trufflesecurity+trufflehog",
                    "3ab759fef4bb5935d4fe9ac68b503d05346b8364", "AGPL-3.0")),
    ("presidio", ("microsoft/presidio", "microsoft+presidio", "0aa9f8e44275cb52c00fbbebe19168e934e1f076", "MIT")),
    ("recognizers-text", ("microsoft/Recognizers-Text", "microsoft+Recognizers-Text",
                          "90e968ea44dc8fda3f2e1c3e4b20aa233817488d", "MIT")),
])

SECRET_TYPES = {
    "anthropic_api_key", "aws_access_key_id", "aws_secret_access_key", "azure_storage_key", "connection_string",
    "gateway_key", "generic_secret", "github_token", "gitlab_token", "google_api_key", "huggingface_token", "jwt",
    "npm_token", "openai_api_key", "private_key", "pypi_token", "sendgrid_api_key", "slack_token", "slack_webhook",
    "stripe_key", "twilio_api_key", "twilio_auth_token",
}
PII_TYPES = {"email", "phone", "us_ssn", "uk_nino", "ca_sin"}
PCI_TYPES = {"credit_card", "iban", "aba_routing"}


def category(t):
    if t in SECRET_TYPES:
        return "secret"
    if t in PII_TYPES:
        return "pii"
    if t in PCI_TYPES:
        return "pci"
    raise KeyError(t)


MIRROR = "/work/.mirror"


def repo_dir(key):
    return os.path.join(MIRROR, SOURCES[key][1], "repo")


def git(key, *args):
    return subprocess.run(["git", "-C", repo_dir(key)] + list(args), capture_output=True, text=True,
                          check=True).stdout


def show(key, path):
    return git(key, "show", "%s:%s" % (SOURCES[key][2], path))


def ls(key, prefix=""):
    args = ["ls-tree", "-r", "--name-only", SOURCES[key][2]] + ([prefix] if prefix else [])
    return git(key, *args).split("\n")[:-1]


def src_ref(key, path, anchor):
    repo, _, commit, _ = SOURCES[key]
    return "%s@%s:%s#%s" % (repo, commit[:12], path, anchor)


class Collector:
    def __init__(self):
        self.records = []
        self.skipped = []  # (why, source, text)
        self.seen_text = set()
        self.value_uses = Counter()
        self.shapes = Counter()  # text with the labelled values masked and digits collapsed

    def pos(self, key, path, anchor, text, labels, tags=(), cap=None):
        """labels: [(type, value)]. Placeholder-looking values go to the benign set instead (tag placeholder)."""
        labels = list(dict.fromkeys((t, v) for t, v in labels if v))
        if not labels:
            self.skipped.append(("no value", src_ref(key, path, anchor), text))
            return
        if LIVE_LOOKING.search(text):
            self.skipped.append(("looks like it may be a live credential (copied from a third-party repo)",
                                 src_ref(key, path, anchor), text))
            return
        for t, v in labels:
            if v not in text:
                raise ValueError("value %r not in text %r (%s)" % (v, text, anchor))
            category(t)
        # placeholder heuristics apply to credentials only (test card numbers and IBANs are labelled as published)
        def placeholder(t, v):
            if t == "connection_string" and _conn_password(v) is not None:
                v = _conn_password(v)
            return category(t) == "secret" and is_placeholder(v)
        if all(placeholder(t, v) for t, v in labels):
            self.neg(key, path, anchor, text, tags=tuple(tags) + ("placeholder",))
            return
        labels = [(t, v) for t, v in labels if not placeholder(t, v)]
        if text in self.seen_text:
            self.skipped.append(("duplicate text", src_ref(key, path, anchor), text))
            return
        cap = cap or MAX_PER_VALUE
        labels_key = [(t, _cap_key(t, v)) for t, v in labels]
        if all(self.value_uses[k] >= (CONN_CAP if t == "connection_string" else cap) for t, k in labels_key):
            self.skipped.append(("value used %d times" % cap, src_ref(key, path, anchor), text))
            return
        shape = text
        for t, v in labels:
            shape = shape.replace(v, "\x00" + t + "\x00")
        shape = re.sub(r"\d+", "0", shape)
        bare = len(labels) == 1 and shape == "\x00%s\x00" % labels[0][0]  # a bare value: its format is the variety
        if not bare and all(category(t) == "secret" for t, _ in labels) and self.shapes[shape] >= SHAPE_CAP:
            self.skipped.append(("same context shape %d times" % SHAPE_CAP, src_ref(key, path, anchor), text))
            return
        self.shapes[shape] += 1
        self.seen_text.add(text)
        for _, k in labels_key:
            self.value_uses[k] += 1
        self.records.append(dict(text=text, labels=labels, key=key, source=src_ref(key, path, anchor),
                                 tags=list(tags)))

    def neg(self, key, path, anchor, text, tags=()):
        if not text.strip():
            return
        if text in self.seen_text:
            self.skipped.append(("duplicate text", src_ref(key, path, anchor), text))
            return
        self.seen_text.add(text)
        tags = list(tags)
        if "placeholder" not in tags and re.search(r"(?i)x{6,}|#{8,}|Z{10,}|(?:deadbeef){2}|ABCDEFGHIJ", text):
            tags.append("placeholder")
        if "doc-example" not in tags and re.search(r"IOSFODNN7EXAMPLE|wJalrXUtnFEMI/K7MDENG", text):
            tags.append("doc-example")
        self.records.append(dict(text=text, labels=[], key=key, source=src_ref(key, path, anchor),
                                 tags=["benign"] + tags))


MAX_PER_VALUE = 6
# Fixtures that a source says it copied from a third-party repository and that pair the key with a distinct,
# real-looking account or host (no visible alteration): left out in case they are still live.
LIVE_LOOKING = re.compile(r"AccountName=hanatour9833|AccountName=d1biblobstor521|HostName=d1-vi-ioth521|"
                          r"k21storagemedia|AccountName=huntappstorage|newstore100033323|"
                          r"calling-mr-bones\.c0qsadyxbf4k|cefapp\.documents\.azure\.com|agenda-live\.mongo\.cosmos")
SHAPE_CAP = 3  # secrets: at most this many samples whose text differs only in the value (and digits)
CONN_CAP = 3  # connection strings: at most this many samples per password


def _cap_key(t, v):
    if t == "connection_string":
        return "conn:" + (_conn_password(v) or v)
    return v

_PLACEHOLDER = re.compile(
    r"(?i)x{6,}|\*{4,}|#{6,}|0{10,}|z{10,}|a{12,}|(?:deadbeef){2}|abcdefghij|ABCDEFGHIJ|<[A-Za-z_ -]+>|\$\{[A-Za-z_][A-Za-z0-9_.]*\}|"
    r"your[_-]?(?:key|token|secret|password|api)|EXAMPLEKEY|IOSFODNN7EXAMPLE|^\$[A-Za-z_]+$|^%[A-Za-z_]+%$")


def is_placeholder(v):
    core = re.sub(r"^(?:[a-z]{2,8}[-_.])+", "", v)  # drop a token prefix such as xoxb- / ghp_ / sk-proj-
    if len(core) >= 8 and len(set(core.replace("-", "").replace("_", ""))) <= 3:
        return True
    return bool(_PLACEHOLDER.search(v))



# ================================================================ Section 3: gitleaks (cmd/generate/config/rules/*.go)
def go_functions(src):
    toks = lex(src)
    out = []
    i = 0
    while i < len(toks):
        if toks[i] == ("ident", "func") and toks[i + 1][0] == "ident":
            name = toks[i + 1][1]
            j = i + 2
            while toks[j] != ("op", "{"):
                j += 1
            depth, k = 0, j
            while True:
                if toks[k] == ("op", "{"):
                    depth += 1
                elif toks[k] == ("op", "}"):
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            out.append((name, toks[j + 1:k]))
            i = k
        i += 1
    return out


def gitleaks_rule_lists(body, env):
    env = dict(env)
    rid, lists = None, {"tps": [], "fps": []}
    for i, t in enumerate(body):
        if t == ("ident", "RuleID") and body[i + 1] == ("op", ":"):
            rid = body[i + 2][1]
        if t[0] == "ident" and t[1] in ("tps", "fps") and body[i + 1] in (("op", ":="), ("op", "=")):
            p = Parser(body, env)
            p.i = i + 2
            v = p.expr()
            if isinstance(v, dict):
                v = list(v.keys())
            if not isinstance(v, list):
                v = [v]
            lists[t[1]] = v
            env[t[1]] = v
    return rid, lists["tps"], lists["fps"]


def _rx(pattern, group=0):
    r = re.compile(pattern)

    def f(text):
        return [m.group(group) for m in r.finditer(text)]
    return f


_GENERIC_VALUE = _rx(r"""(?i)(?:token|secret|auth|credentials?|key|passw(?:or)?d|creds|api)[\w.-]*["']?\s*(?:[:=,]|:=|=>)\s*["'`]?([^\s"'`,;)]{8,})""", 1)

GITLEAKS_RULES = {
    # rule id: (our type, value extractor, extra tags)
    "aws-access-token": ("aws_access_key_id", _rx(r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"), ()),
    "azure-ad-client-secret": ("generic_secret", _rx(r"[\w~.]{3}\dQ~[\w~.-]{31,34}"), ("variant:azure-ad-client-secret",)),
    "generic-api-key": ("generic_secret", _GENERIC_VALUE, ()),
    "jwt": ("jwt", _rx(r"ey[A-Za-z0-9_-]{10,}\.ey[A-Za-z0-9_/\\-]{10,}\.[A-Za-z0-9_/\\-]*"), ()),
    "slack-bot-token": ("slack_token", _rx(r"xoxb-[0-9]+-[0-9]+-[A-Za-z0-9]+"), ()),
    "slack-user-token": ("slack_token", _rx(r"xox[pe]-[0-9]+-[0-9]+-[0-9]+-[A-Za-z0-9]+"), ()),
    "slack-app-token": ("slack_token", _rx(r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"), ()),
    "slack-config-access-token": ("slack_token", _rx(r"xoxe\.xox[bp]-\d-[A-Za-z0-9]+"), ()),
    "slack-config-refresh-token": ("slack_token", _rx(r"xoxe-\d-[A-Za-z0-9]+"), ()),
    "slack-legacy-bot-token": ("slack_token", _rx(r"xoxb-[0-9]{8,14}-[A-Za-z0-9]+"), ()),
    "slack-legacy-workspace-token": ("slack_token", _rx(r"xox[ar]-(?:\d-)?[0-9A-Za-z-]+"), ()),
    "slack-legacy-token": ("slack_token", _rx(r"xox[os]-[0-9A-Za-z-]+"), ()),
    "slack-webhook-url": ("slack_webhook", _rx(r"https?://hooks\.slack\.com/[A-Za-z0-9_/+-]+"), ()),
    "stripe-access-token": ("stripe_key", _rx(r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]+"), ()),
    "huggingface-access-token": ("huggingface_token", _rx(r"\bhf_[A-Za-z0-9]{34}\b"), ()),
    "huggingface-organization-api-token": ("huggingface_token", _rx(r"\bapi_org_[A-Za-z0-9]{34}\b"), ()),
    "openai-api-key": ("openai_api_key", _rx(r"\bsk-[A-Za-z0-9_-]+"), ()),
    "anthropic-api-key": ("anthropic_api_key", _rx(r"sk-ant-[A-Za-z0-9_-]+"), ()),
    "anthropic-admin-api-key": ("anthropic_api_key", _rx(r"sk-ant-[A-Za-z0-9_-]+"), ()),
    "private-key": ("private_key", _rx(r"-----BEGIN[ A-Z]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END[ A-Z]*PRIVATE KEY(?: BLOCK)?-----"), ()),
    "gcp-api-key": ("google_api_key", _rx(r"AIza[\w-]{35}"), ()),
    # these rules only have generated true positives; their (literal) false positives are still used
    "github-pat": (None, None, ()), "github-fine-grained-pat": (None, None, ()), "github-oauth": (None, None, ()),
    "github-app-token": (None, None, ()), "github-refresh-token": (None, None, ()), "gitlab-pat": (None, None, ()),
    "gitlab-pat-routable": (None, None, ()), "gitlab-ptt": (None, None, ()), "gitlab-rrt": (None, None, ()),
    "gitlab-runner-authentication-token-routable": (None, None, ()),
}
GITLEAKS_FILES = ["aws.go", "azure.go", "generic.go", "jwt.go", "slack.go", "stripe.go", "huggingface.go", "openai.go",
                  "anthropic.go", "privatekey.go", "gcp.go", "github.go", "gitlab.go"]

# False-positive fixtures we do not use as benign samples, with the reason.
GITLEAKS_FP_EXCLUDE = {
    # Firebase SDK sample keys: real Google API keys published as examples; not benign for a gateway.
    "firebase": re.compile(r"^AIza[A-Za-z0-9_-]{35}$"),
    # anthropic: "too short"/"wrong suffix"/"admin prefix" are still key-shaped (the admin one is a real key type)
    "anthropic": re.compile(r"^sk-ant-"),
    # holds an e-mail address (PII for us)
    "email": re.compile(r"@ymail\.com"),
    # a key-shaped value gitleaks only allowlists by a stop word (yarnpkg/berry#6201)
    "stopword": re.compile(r"6fe4476ee5a1832882e326b506d14126"),
    # numbers replaced but the random hex part looks like a real token
    "slack-token3": re.compile(r"4ddbc191d40ee098cbaae6f3523ada2d"),
    # bedrock keys are not a type we claim
    "bedrock": re.compile(r"^A[BX]SK"),
}

# per literal secret used with GenerateSampleSecrets: how many of the 26 context templates to keep
TEMPLATES_GENERIC = 6
TEMPLATES_DEFAULT = 2
TEMPLATES_NONE = ("slack-", "huggingface-")  # these rules have enough literal true positives


def extract_gitleaks(c):
    key = "gitleaks"
    template_names = list(GITLEAKS_SAMPLE_TEMPLATES)
    rotate = 0
    for fname in GITLEAKS_FILES:
        path = "cmd/generate/config/rules/" + fname
        src = show(key, path)
        env = package_env(src)
        for fn, body in go_functions(src):
            rid, tps, fps = gitleaks_rule_lists(body, env)
            if not rid or rid not in GITLEAKS_RULES:
                continue
            typ, extract, tags = GITLEAKS_RULES[rid]
            if typ:
                secrets_seen = OrderedDict()
                for tp in tps:
                    if not isinstance(tp, str):
                        continue  # generated by a random generator: not reproducible, dropped
                    if isinstance(tp, Sample):
                        secrets_seen.setdefault(tp.secret, []).append(tp)
                        continue
                    vals = extract(tp)
                    vals = [v.rstrip("=") if typ == "jwt" else v for v in vals]
                    c.pos(key, path, rid, tp, [(typ, v) for v in dict.fromkeys(vals)], tags=("gitleaks-tp",) + tags)
                # GenerateSampleSecrets(identifier, literal secret): keep a rotating subset of the 26 templates
                for secret, samples in secrets_seen.items():
                    n = TEMPLATES_GENERIC if rid == "generic-api-key" else TEMPLATES_DEFAULT
                    if rid.startswith(TEMPLATES_NONE):
                        n = 0
                    for i in range(n):
                        s = samples[(rotate + i) % len(samples)]
                        c.pos(key, path, "%s/GenerateSampleSecrets:%s" % (rid, s.template), str(s), [(typ, secret)],
                              tags=("gitleaks-tp", "gitleaks-template") + tags, cap=n)
                    rotate += n
            for fp in fps:
                if not isinstance(fp, str):
                    continue
                why = [k for k, r in GITLEAKS_FP_EXCLUDE.items() if r.search(fp)]
                if why:
                    c.skipped.append(("gitleaks fp excluded: " + ",".join(why), src_ref(key, path, rid), fp))
                    continue
                c.neg(key, path, rid + "/fps", fp, tags=("gitleaks-fp",))


# ================================================================ Section 4: pytest parametrize lists (detect-secrets, Presidio)
class _Stub:
    """Stands in for anything a test module imports that we do not have (the scanners themselves)."""

    def __getattr__(self, name):
        return _Stub()

    def __call__(self, *a, **k):
        return _Stub()

    def __mro_entries__(self, bases):
        return (object,)

    def __iter__(self):
        return iter(())


_REAL_MODULES = {"re", "textwrap", "base64", "random", "json", "os", "string", "math", "typing", "collections",
                 "unittest", "unittest.mock", "itertools", "functools", "datetime", "decimal", "copy", "sys"}


def run_pytest_module(src, filename):
    """Executes a pytest module with stand-ins and returns [(function name, argnames, [param tuples])].

    Only module-level code runs (the parametrize decorators and the constants they use); test bodies never run.
    """
    recorded = []

    class Mark:
        def parametrize(self, argnames, argvalues, *a, **k):
            names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
            values = list(argvalues)

            def deco(f):
                recorded.append((getattr(f, "__name__", "?"), names, values))
                return f
            return deco

        def __getattr__(self, name):
            def factory(*a, **k):
                if len(a) == 1 and callable(a[0]) and not k:
                    return a[0]
                return lambda f: f
            return factory

    def fixture(*a, **k):
        if len(a) == 1 and callable(a[0]):
            return a[0]
        return lambda f: f

    fake_pytest = types.SimpleNamespace(mark=Mark(), fixture=fixture, param=lambda *v, **k: v, raises=_Stub(),
                                        approx=_Stub(), skip=_Stub())
    real_import = __import__

    def imp(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "pytest":
            return fake_pytest
        if level == 0 and (name in _REAL_MODULES or name.split(".")[0] in _REAL_MODULES):
            return real_import(name, globals, locals, fromlist, level)
        return _Stub()

    builtins = dict(__builtins__.__dict__ if hasattr(__builtins__, "__dict__") else __builtins__)
    builtins["__import__"] = imp
    g = {"__builtins__": builtins, "__name__": "fixture_module", "__file__": filename}
    exec(compile(src, filename, "exec"), g)
    return recorded


def param_rows(recorded, want_fn=None):
    for fn, names, values in recorded:
        if want_fn and fn not in want_fn:
            continue
        for v in values:
            if len(names) == 1 and not (isinstance(v, tuple) and len(v) == 1):
                v = (v,)
            yield fn, dict(zip(names, v))


# ---------------------------------------------------------------- detect-secrets
def _gitlab_negative_is_benign(payload):
    m = re.match(r"(glpat|gldt|glsoat|GR1348941|glcbt|glimt|glptt|glagent|gloas)([-_]?)(.*)$", payload)
    if not m:
        return "ghp_" not in payload  # "GitLab is not GitHub": that one is a GitHub token
    prefix, sep, rest = m.groups()
    if " " in rest or (sep == "_" and prefix != "GR1348941"):
        return True  # broken token
    return len(rest) < 20  # too short; "too long" ones are still token-shaped: skipped


def extract_detect_secrets(c):
    key = "detect-secrets"
    base = "tests/plugins/"

    def run(fname):
        path = base + fname
        return path, list(param_rows(run_pytest_module(show(key, path), path)))

    path, rows = run("aws_key_test.py")
    for fn, r in rows:
        if fn == "test_analyze":
            line, flag = r["line"], r["should_flag"]
            if "EXAMPLEKEY" in line:
                c.neg(key, path, fn, line, tags=("doc-example",))
            elif flag:
                c.pos(key, path, fn, line, [("aws_access_key_id", line)])
            else:
                c.neg(key, path, fn, line)
        elif fn == "test_get_secret_access_key":
            c.neg(key, path, fn, r["content"], tags=("doc-example",))

    path, rows = run("azure_storage_key_test.py")
    for fn, r in rows:
        if r["should_flag"]:
            c.pos(key, path, fn, r["payload"], [("azure_storage_key", re.search(r"AccountKey=(\S+)", r["payload"]).group(1))])

    path, rows = run("github_token_test.py")
    for fn, r in rows:
        if r["should_flag"]:
            c.pos(key, path, fn, r["payload"], [("github_token", r["payload"])])
        elif r["payload"] != "foo":
            c.neg(key, path, fn, r["payload"])

    path, rows = run("gitlab_token_test.py")
    for fn, r in rows:
        p = r["payload"]
        if r["should_flag"]:
            c.pos(key, path, fn, p, [("gitlab_token", p)])
        elif _gitlab_negative_is_benign(p):
            c.neg(key, path, fn, p)
        else:
            c.skipped.append(("token-shaped negative", src_ref(key, path, fn), p))

    path, rows = run("jwt_test.py")
    for fn, r in rows:
        p = r["payload"]
        if r["should_flag"]:
            c.pos(key, path, fn, p, [("jwt", p)])
        else:
            c.neg(key, path, fn, p)

    path, rows = run("keyword_test.py")
    benign_keyword_lines = re.compile(r'^(?:api_key = ""|secret: \'\'|secret := \'\'|password = "somefakekey"|'
                                      r'password := "somefakekey"|password(?:\[\])?(?::| =) \$\{link\})$')
    for fn, r in rows:
        line, secret = r["line"], r["expected_secret"]
        if len(line) > 500:
            continue  # the generated long base64 line
        if secret:
            tags = ("value-with-spaces",) if " " in secret else ()
            c.pos(key, path, "%s[%s]" % (fn, r["file_extension"]), line, [("generic_secret", secret)], tags=tags,
                  cap=8)
        elif benign_keyword_lines.match(line):
            c.neg(key, path, "%s[%s]" % (fn, r["file_extension"]), line)

    path, rows = run("npm_test.py")
    for fn, r in rows:
        p = r["payload"]
        if r["should_flag"]:
            tok = p.split("=", 1)[1].strip()
            tags = ("variant:npm-legacy-uuid-token",) if re.match(r"[0-9a-f-]{36}$", tok) else ()
            c.pos(key, path, fn, p, [("npm_token", tok)], tags=tags)
        elif "${" in p:
            c.neg(key, path, fn, p)

    path, rows = run("openai_test.py")
    for fn, r in rows:
        if r["should_flag"]:
            c.pos(key, path, fn, r["payload"], [("openai_api_key", r["payload"])])

    path, rows = run("pypi_token_test.py")
    for fn, r in rows:
        if r["should_flag"]:
            tags = ("variant:test.pypi.org",) if "AgENdGVzdC5weXBpLm9yZw" in r["payload"] else ()
            c.pos(key, path, fn, r["payload"], [("pypi_token", r["payload"])], tags=tags)

    path, rows = run("sendgrid_test.py")
    for fn, r in rows:
        if r["should_flag"]:
            c.pos(key, path, fn, r["payload"], [("sendgrid_api_key", r["payload"])])

    path, rows = run("slack_test.py")
    for fn, r in rows:
        line = r["line"]
        typ = "slack_webhook" if "hooks.slack.com" in line else "slack_token"
        c.pos(key, path, fn, line, [(typ, line)])

    path, rows = run("stripe_key_test.py")
    for fn, r in rows:
        if r["should_flag"]:
            c.pos(key, path, fn, r["line"], [("stripe_key", r["line"])])
        else:
            c.neg(key, path, fn, r["line"])

    path, rows = run("twilio_test.py")
    for fn, r in rows:
        c.pos(key, path, fn, r["payload"], [("twilio_api_key", r["payload"])])  # all are SKxxx.. placeholders

    path, rows = run("private_key_test.py")
    for fn, r in rows:
        t = r["file_content"]
        c.pos(key, path, fn, t, [("private_key", t[t.index("-----BEGIN"):])], tags=("weak-key-body",))

    # test_data/: lines picked by hand (file, line prefix, type or None for benign, value, tags)
    picks = [
        ("test_data/each_secret.py", "base64_secret", "generic_secret", "c2VjcmV0IG1lc3NhZ2Ugc28geW91J2xsIG5ldmVyIGd1ZXNzIG15IHBhc3N3b3Jk", ()),
        ("test_data/each_secret.py", "hex_secret", "generic_secret", "8b1118b376c313ed420e5133ba91307817ed52c2", ()),
        ("test_data/each_secret.py", "basic_auth", "connection_string",
         "http://username:whywouldyouusehttpforpasswords@example.com", ("variant:http-basic-auth-url",)),
        ("test_data/each_secret.py", "red_herring", None, None, ()),
        ("test_data/each_secret.py", "aws_access_key ", None, None, ("doc-example",)),
        ("test_data/each_secret.py", "aws_secret_access_key", None, None, ("doc-example",)),
        ("test_data/config.ini", "password = 123456789a1234", "generic_secret", "123456789a1234", ("weak-value",)),
        ("test_data/config.ini", "real_secret_which_isnt_an_i_d", "generic_secret",
         "vh987tyw9ehy8ghis7vwyhiwbwitefy7w3ASDGYDGUASDG", ()),
        ("test_data/config.yaml", "test_agent::allowlisted_api_key", "generic_secret",
         "ToCynx5Se4e2PtoZxEhW7lUJcOX15c54", ()),
        ("test_data/config.yaml", "uuid_should_be_ignored", None, None, ()),
        ("test_data/files/file_with_secrets.py", "SUPER_SEECRET_VALUE", "generic_secret",
         "c3VwZXIgbG9uZyBzdHJpbmcgc2hvdWxkIGNhdXNlIGVub3VnaCBlbnRyb3B5", ()),
        ("test_data/files/file_with_secrets.py", "VERY_SECRET_TOO", "generic_secret",
         "f6CGV4aMM9zedoh3OUNbSakBymo7yplB", ()),
    ]
    for path, prefix, typ, value, tags in picks:
        line = next(l for l in show(key, path).split("\n") if l.startswith(prefix))
        if typ:
            c.pos(key, path, prefix.strip(), line, [(typ, value)], tags=tags)
        else:
            c.neg(key, path, prefix.strip(), line, tags=tags)
    path = "test_data/short_files/middle_line.yml"
    text = show(key, path).strip("\n")
    c.pos(key, path, "password.secure", text, [("generic_secret", "thequickbrownfoxjumpsoverthelazydog")])
    path = "test_data/files/private_key"
    text = show(key, path).strip("\n")
    c.pos(key, path, "file", text, [("private_key", text)], tags=("weak-key-body",))


# ---------------------------------------------------------------- Presidio
PRESIDIO_TESTS = [
    # file, our type, how many positives to keep (None: all), how many negatives to keep (None: all)
    ("test_email_recognizer.py", "email", None, None),
    ("test_phone_recognizer.py", "phone", 24, None),
    ("test_credit_card_recognizer.py", "credit_card", None, None),
    ("test_iban_recognizer.py", "iban", 36, 16),
    ("test_us_ssn_recognizer.py", "us_ssn", None, None),
    ("test_uk_nino_recognizer.py", "uk_nino", None, None),
    ("test_aba_routing_recognizer.py", "aba_routing", None, None),
    ("test_ca_sin_recognizer.py", "ca_sin", None, None),
]


def _spread(items, n):
    """n items spread evenly over the list (deterministic), keeping order; items marked first=True always kept."""
    if n is None or len(items) <= n:
        return items
    must = [x for x in items if x[0]]
    rest = [x for x in items if not x[0]]
    k = max(0, n - len(must))
    step = len(rest) / k if k else 0
    chosen = {int(i * step) for i in range(k)}
    keep = set(id(x) for x in must) | set(id(rest[i]) for i in chosen)
    return [x for x in items if id(x) in keep]


def extract_presidio(c):
    key = "presidio"
    for fname, typ, npos, nneg in PRESIDIO_TESTS:
        path = "presidio-analyzer/tests/" + fname
        rows = list(param_rows(run_pytest_module(show(key, path), path)))
        pos, neg = [], []
        for fn, r in rows:
            text = r.get("text", r.get("iban"))
            spans = r.get("expected_positions", r.get("expected_res"))
            n = r.get("expected_len")
            if text is None or spans is None or n is None:
                continue
            scores = r.get("expected_score_ranges") or ()
            if n:
                values = [text[a:b] for a, b in spans]
                tags = []
                if typ == "us_ssn" and scores and max(hi for lo, hi in scores) <= 0.3:
                    c.skipped.append(("presidio very weak match", src_ref(key, path, fn), text))
                    continue
                if scores and max(hi for lo, hi in scores) <= 0.4:
                    tags.append("presidio-weak-score")
                sentence = not re.fullmatch(r"[A-Z0-9 -]+", text)
                pos.append((sentence, fn, text, values, tags))
            else:
                neg.append((False, fn, text))
        for _, fn, text, values, tags in _spread(pos, npos):
            c.pos(key, path, fn, text, [(typ, v) for v in values], tags=tags)
        for _, fn, text in _spread(neg, nneg):
            if PRESIDIO_NEG_EXCLUDE.search(text):
                c.skipped.append(("presidio negative holds other PII or is ambiguous", src_ref(key, path, fn), text))
                continue
            c.neg(key, path, fn, text, tags=("presidio-negative",))

    # context sentences: the value is found with a per-type pattern
    path = "presidio-analyzer/tests/data/context_sentences_tests.txt"
    blocks = [b.strip().split("\n") for b in re.split(r"\n\s*\n", show(key, path))]
    ctx = {"PHONE_NUMBER": ("phone", r"\(?\d[\d() -]{6,}\d"), "US_SSN": ("us_ssn", r"\d[\d-]{7,}\d"),
           "ABA_ROUTING_NUMBER": ("aba_routing", r"\d{9}")}
    for b in blocks:
        b = [l for l in b if not l.startswith("#")]
        if len(b) == 2 and b[0] in ctx:
            typ, rx = ctx[b[0]]
            vals = [v.strip() for v in re.findall(rx, b[1])]
            if typ == "us_ssn":
                vals = [v for v in vals if re.fullmatch(r"\d{3}-\d{2}-\d{4}", v)]  # 078051120 (voided) and 3-6 splits: disputed
            if b[0] == "PHONE_NUMBER" and "052 5552606 074-7111234" in b[1]:
                vals = ["052 5552606", "074-7111234"]
            if vals:
                c.pos(key, path, b[0], b[1], [(typ, v) for v in vals], tags=("presidio-context",))

    # e2e demo text: one sample per paragraph
    path = "e2e-tests/resources/demo.txt"
    for para in show(key, path).split("\n\n"):
        para = para.strip()
        labels = []
        for typ, rx in (("credit_card", r"\b\d{4}-\d{4}-\d{4}-\d{4}\b"), ("email", r"[\w.+-]+@[\w-]+\.[\w.]+\w"),
                        ("phone", r"\(\d{3}\) \d{3}-\d{4}"), ("iban", r"\bIL\d{21}\b"),
                        ("us_ssn", r"\b\d{3}-\d{2}-\d{4}\b")):
            labels += [(typ, v) for v in re.findall(rx, para)]
        if labels:
            c.pos(key, path, "paragraph", para, labels)
        elif para:
            c.neg(key, path, "paragraph", para)


PRESIDIO_NEG_EXCLUDE = re.compile(r"440-600-5124|Slash as iban separator|IL15 0120 6900 0000 3111 0120")


# ================================================================ Section 5: Nosey Parker rule examples (YAML)
NP_DIR = "crates/noseyparker/data/default/builtin/rules/"
# rule id: [(our type, capture group)], tags.  Examples become positives (value = the rule's own capture group),
# negative_examples become benign samples.
NP_RULES = {
    "np.anthropic.1": ([("anthropic_api_key", 1)], ()),
    "np.aws.1": ([("aws_access_key_id", 1)], ()),
    "np.aws.2": ([("aws_secret_access_key", 1)], ()),
    "np.aws.6": ([("aws_access_key_id", 1), ("aws_secret_access_key", 2)], ()),
    "np.azure.1": ([("azure_storage_key", 2)], ()),
    "np.generic.1": ([("generic_secret", 1)], ()),
    "np.generic.2": ([("generic_secret", 1)], ()),
    "np.generic.3": ([("generic_secret", 2)], ()),
    "np.generic.4": ([("generic_secret", 2)], ()),
    "np.generic.5": ([("generic_secret", 1)], ()),
    "np.generic.6": ([("generic_secret", 1)], ()),
    "np.generic.7": ([("generic_secret", 2)], ()),
    "np.generic.8": ([("generic_secret", 3)], ()),
    "np.generic.9": ([("generic_secret", 2)], ()),
    "np.generic.10": ([("connection_string", "odbc")], ("variant:odbc-connection-string",)),
    "np.generic.11": ([("generic_secret", 1)], ("prose",)),
    "np.generic.12": ([("generic_secret", 1)], ("prose",)),
    "np.generic.13": ([("generic_secret", 2)], ("prose",)),
    "np.generic.14": ([("generic_secret", 2)], ("prose",)),
    "np.generic.15": ([("generic_secret", 1)], ()),
    "np.generic.16": ([("generic_secret", 1)], ()),
    "np.netrc.1": ([("generic_secret", 3)], ("variant:netrc",)),
    "np.psexec.1": ([("generic_secret", 2)], ("variant:command-line",)),
    "np.github.1": ([("github_token", 1)], ()),
    "np.github.2": ([("github_token", 1)], ()),
    "np.github.3": ([("github_token", 1)], ()),
    "np.github.4": ([("github_token", 1)], ()),
    "np.github.7": ([("github_token", 1)], ()),
    "np.gitlab.1": ([("gitlab_token", 1)], ("variant:runner-registration-token",)),
    "np.gitlab.2": ([("gitlab_token", 1)], ()),
    "np.gitlab.3": ([("gitlab_token", 1)], ()),
    "np.google.5": ([("google_api_key", 1)], ()),
    "np.huggingface.1": ([("huggingface_token", 1)], ()),
    "np.jwt.1": ([("jwt", 1)], ()),
    "np.mongodb.1": ([("connection_string", 0)], ()),
    "np.postgres.1": ([("connection_string", 0)], ()),
    "np.odbc.1": ([("connection_string", "odbc")], ("variant:odbc-connection-string",)),
    "np.npm.1": ([("npm_token", 1)], ()),
    "np.openai.1": ([("openai_api_key", 1)], ()),
    "np.pem.1": ([("private_key", 0)], ()),
    "np.pem.2": ([("private_key", 1)], ("variant:base64-pem",)),
    "np.pypi.1": ([("pypi_token", 1)], ()),
    "np.sendgrid.1": ([("sendgrid_api_key", 1)], ()),
    "np.slack.2": ([("slack_token", 1)], ()),
    "np.slack.4": ([("slack_token", 1)], ()),
    "np.slack.5": ([("slack_token", 1)], ()),
    "np.slack.6": ([("slack_token", 1)], ()),
    "np.slack.3": ([("slack_webhook", 1)], ()),
    "np.stripe.1": ([("stripe_key", 1)], ()),
    "np.stripe.2": ([("stripe_key", 1)], ("variant:stripe-test-key",)),
    "np.twilio.1": ([("twilio_api_key", 1)], ()),
}
# negative examples that are not benign for us (they hold a value of a type we claim)
NP_NEG_NOT_BENIGN = re.compile(r"xox[bp]-\d|killer\.joe@|Password=#gets0m3|ded7db27a4558e2ea9bbf0bf36ae0e8521618f366c|"
                               r"OOzkR1\+hF|5pX8Q~|AZDO|zpczok4kq|a1B2c3D4|X9y8Z7a6|007e65c7-635d|H7IKC85R|"
                               r"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|://[^/\s:@]*:[^@\s]+@|password=secret|super\$ecret|"
                               r"open_sesame|ClearTextPassword|busybox@|abcdefg12346\+FJQCK")
# positive examples whose value is an interpolation or masked, so neither positive nor benign
NP_POS_SKIP = re.compile(r"^(?:\$Password|%nothing%|######|PASSWORD|secret|application:|#\{.*)$")
_ODBC_PASSWORD = re.compile(r"(?i)\b(?:password|pwd)\s*=\s*([^;\"'<>\s]+)")


def _np_regex(pattern):
    """Compiles a Nosey Parker (Rust regex) pattern with Python's re: standalone flag groups become global flags."""
    flags = 0
    for f, v in (("x", re.X), ("i", re.I), ("m", re.M), ("s", re.S)):
        if re.search(r"\(\?%s\)" % f, pattern):
            flags |= v
            pattern = re.sub(r"\(\?%s\)" % f, "", pattern)
    return re.compile(pattern.replace(r"\z", r"\Z"), flags)


def extract_noseyparker(c):
    import yaml
    key = "noseyparker"
    for path in ls(key, NP_DIR):
        doc = yaml.safe_load(show(key, path))
        for rule in doc["rules"]:
            rid = rule["id"]
            if rid not in NP_RULES:
                continue
            spec, tags = NP_RULES[rid]
            rx = _np_regex(rule["pattern"])
            for ex in rule.get("examples") or []:
                text = ex.rstrip("\n")
                m = rx.search(text)
                if not m:
                    c.skipped.append(("np pattern did not match its example", src_ref(key, path, rid), text))
                    continue
                labels = []
                for typ, g in spec:
                    if g == "odbc" and rid == "np.odbc.1":
                        labels.append((typ, m.group(2).strip().strip("\\").strip('"').strip("\\")))
                    elif g == "odbc":
                        pm = _ODBC_PASSWORD.search(text)
                        labels.append((typ, pm.group(1) if pm else None))
                    elif typ == "connection_string":
                        labels.append((typ, re.match(r"[^\s'\"<>]+", text[m.start():]).group(0)))
                    else:
                        labels.append((typ, m.group(g).strip()))
                if any(g == "odbc" for _, g in spec) and not re.search(r"(?i)(?:server|data source|provider|driver)\s*=", text):
                    labels = [("generic_secret", v) for _, v in labels]  # a password variable, not a connection string
                    c.pos(key, path, rid, text, labels, tags=("variant:password-variable",))
                    continue
                if any(t == "connection_string" and v and (_conn_password(v) or v) in _PLACEHOLDER_PASSWORD
                       for t, v in labels):
                    c.skipped.append(("connection string with a placeholder password", src_ref(key, path, rid), text))
                    continue
                if any(v and NP_POS_SKIP.match(v) for _, v in labels):
                    c.skipped.append(("np example value is an interpolation/mask", src_ref(key, path, rid), text))
                    continue
                c.pos(key, path, rid, text, labels, tags=tags)
            for ex in rule.get("negative_examples") or []:
                text = ex.rstrip("\n")
                if NP_NEG_NOT_BENIGN.search(text):
                    c.skipped.append(("np negative holds a value we claim", src_ref(key, path, rid), text))
                    continue
                c.neg(key, path, rid + "/negative", text, tags=("np-negative",))


# ================================================================ Section 6: TruffleHog detector pattern tests (Go)
def go_test_tables(src):
    """Yields every element (a dict of field -> value) of every `tests := []struct{...}{...}` table in a Go file."""
    env = package_env(src)
    toks = lex(src)
    for i in range(len(toks) - 3):
        if toks[i][0] == "ident" and toks[i + 1] == ("op", ":=") and toks[i + 2] == ("op", "[") \
                and toks[i + 3] == ("op", "]") and toks[i + 4] == ("ident", "struct"):
            p = Parser(toks, env)
            p.i = i + 2
            try:
                table = p.expr()
            except (SyntaxError, IndexError, ValueError) as e:
                print("warning: unparsed test table at token %d: %s" % (i, e), file=sys.stderr)
                continue
            for row in table if isinstance(table, list) else []:
                if isinstance(row, dict):
                    yield row


_URL_CREDS = r"(?:postgres(?:ql)?|mongodb(?:\+srv)?|rediss?|amqps?|ftp|https?|jdbc:[a-z]+|ldaps?)://[^\s'\"<>:/@]+:[^\s'\"<>@]+@[^\s'\"<>]+"
TH_FILES = [
    # detector test file, our type, value pattern (group 1 if any), tags
    ("azure_storage/storage_test.go", "azure_storage_key", "want-json:accountKey", ()),
    ("twilio/twilio_test.go", "twilio_auth_token", r"\b[0-9a-f]{32}\b", ()),
    ("slack/slack_test.go", "slack_token", r"xox[a-z]-[0-9A-Za-z-]+", ()),
    ("slackwebhook/slackwebhook_test.go", "slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+", ()),
    ("github/v2/github_test.go", "github_token", r"gh[pousr]_[A-Za-z0-9_]+", ()),
    ("githubapp/githubapp_test.go", "private_key", r"-----BEGIN RSA PRIVATE KEY-----[^\"]*?-----END RSA PRIVATE KEY-----",
     ("variant:single-line-pem",)),
    ("gitlab/v1/gitlab_v1_test.go", "gitlab_token", "want-strip:https://gitlab.com", ("variant:legacy-unprefixed",)),
    ("gitlab/v2/gitlab_v2_test.go", "gitlab_token", r"glpat-[A-Za-z0-9_.-]+", ()),
    ("gitlab/v3/gitlab_v3_test.go", "gitlab_token", r"glpat-[A-Za-z0-9_.-]+", ()),
    ("googlegemini/googlegemini_test.go", "google_api_key", r"AIza[\w-]{35}", ()),
    ("jwt/jwt_test.go", "jwt", r"e[wy][A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]+", ()),
    ("privatekey/privatekey_test.go", "private_key", r"-----BEGIN RSA PRIVATE KEY-----[\s\S]*?-----END RSA PRIVATE KEY-----", ()),
    ("openai/openai_test.go", "openai_api_key", r"\bsk-[\w-]+", ()),
    ("openaiadmin/openaiadmin_test.go", "openai_api_key", r"\bsk-admin-[\w-]+", ()),
    ("anthropic/anthropic_test.go", "anthropic_api_key", r"sk-ant-[\w-]+", ()),
    ("huggingface/huggingface_test.go", "huggingface_token", r"hf_[A-Za-z0-9]{34}", ()),
    ("pypi/pypi_test.go", "pypi_token", r"pypi-[\w-]+", ()),
    ("npmtokenv2/npmtokenv2_test.go", "npm_token", r"npm_[A-Za-z0-9]{36}", ()),
    ("npmtoken/npmtoken_test.go", "npm_token", r"[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}",
     ("variant:npm-legacy-uuid-token",)),
    ("sendgrid/sendgrid_test.go", "sendgrid_api_key", r"SG\.[\w-]+\.[\w-]+", ()),
    ("stripe/stripe_test.go", "stripe_key", r"[rs]k_live_\w+", ()),
    ("aws/access_keys/accesskey_test.go", "aws", None, ()),
    ("postgres/postgres_test.go", "connection_string", _URL_CREDS, ()),
    ("uri/uri_test.go", "connection_string", _URL_CREDS, ("variant:http-basic-auth-url",)),
    ("jdbc/jdbc_test.go", "connection_string", _URL_CREDS, ()),
    ("mongodb/mongodb_test.go", "connection_string", _URL_CREDS, ()),
    ("redis/redis_test.go", "connection_string", _URL_CREDS, ()),
    ("rabbitmq/rabbitmq_test.go", "connection_string", _URL_CREDS, ()),
    ("ftp/ftp_test.go", "connection_string", _URL_CREDS, ()),
    ("sqlserver/sqlserver_test.go", "connection_string", "odbc", ("variant:odbc-connection-string",)),
    ("generic/generic_test.go", "generic_secret", "want", ()),
]
# connection strings whose password is a documentation placeholder (neither a positive nor a benign sample)
_PLACEHOLDER_PASSWORD = {"password", "pass", "secret", "pwd", "changeme", "xxx", "root", "db-password", "testpassword",
                         "MY-PASSWORD", "myPassword", "mypassword"}


def _conn_password(url):
    m = re.match(r"[a-z][a-z0-9+:.-]*://[^:@/]+:([^@]*)@", url)
    return m.group(1) if m else None


def extract_trufflehog(c):
    key = "trufflehog"
    for rel, typ, how, tags in TH_FILES:
        path = "pkg/detectors/" + rel
        for row in go_test_tables(show(key, path)):
            name = row.get("name") if isinstance(row.get("name"), str) else "?"
            text = row.get("input", row.get("data"))
            if not isinstance(text, str):
                continue
            want = row.get("want")
            positive = (isinstance(want, list) and len(want) > 0) or row.get("shouldMatch") == "true"
            if typ == "jwt":
                positive = True  # TruffleHog's JWT table holds well-formed tokens; `want` only reflects verification
            if not positive:
                continue
            text = text.strip("\n") if text.strip() else text
            if how == "want-json:accountKey":
                values = [json.loads(w)["accountKey"] for w in want]
            elif how and how.startswith("want-strip:"):
                values = [w.replace(how.split(":", 1)[1], "") for w in want]
            elif how == "want":
                values = list(want)
            elif how == "odbc":
                values = [m.group(1) for m in _ODBC_PASSWORD.finditer(text)]
            elif typ == "aws":
                ids = re.findall(r"\b(?:AKIA|ABIA|ACCA|ASIA)[A-Z0-9]{16}\b", text)
                secrets = re.findall(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])", text)
                c.pos(key, path, name, text, [("aws_access_key_id", v) for v in ids] +
                      [("aws_secret_access_key", v) for v in secrets if not v.startswith(tuple(ids))], tags=tags)
                continue
            else:
                values = [m.group(0) for m in re.finditer(how, text)]
            values = list(dict.fromkeys(v for v in values if v))
            if typ == "connection_string":
                weak = [v for v in values if _conn_password(v) in _PLACEHOLDER_PASSWORD]
                for v in weak:
                    c.skipped.append(("connection string with a placeholder password", src_ref(key, path, name), v))
                values = [v for v in values if v not in weak]
                if not values:
                    continue
            c.pos(key, path, name, text, [(typ, v) for v in values], tags=tags)


# ================================================================ Section 7: Microsoft Recognizers-Text specs
RT_PHONE_MAX = 30


def _rt_load(key, path):
    return json.loads(show(key, path).lstrip("\ufeff"))


def extract_recognizers_text(c):
    key = "recognizers-text"
    path = "Specs/Sequence/English/PhoneNumberModel.json"
    plain, other = [], []
    for case in _rt_load(key, path):
        text, results = case["Input"], case.get("Results") or []
        if not results:
            if RT_PHONE_NEG_EXCLUDE.search(text):
                c.skipped.append(("phone negative holds another claimed type", src_ref(key, path, "negative"), text))
            else:
                c.neg(key, path, "negative", text, tags=("rt-phone-negative",))
            continue
        if case.get("NotSupported"):
            continue  # not supported by every implementation: disputed
        scores = [float(r["Resolution"]["score"]) for r in results if r.get("Resolution", {}).get("score")]
        if not scores or min(scores) < 0.8:
            continue  # the recognizer itself is unsure
        values = [r["Text"] for r in results]
        if not all(v in text for v in values):
            continue  # the spec's value is normalised, not verbatim
        (plain if text.startswith("My phone number is") else other).append((text, values))
    step = max(1, len(plain) // max(1, RT_PHONE_MAX - len(other)))
    for text, values in other + plain[::step]:
        c.pos(key, path, "phone", text, [("phone", v) for v in values])

    path = "Specs/Sequence/English/EmailModel.json"
    for case in _rt_load(key, path):
        text, results = case["Input"], case.get("Results") or []
        if results and all(r["Text"] in text for r in results):
            c.pos(key, path, "email", text, [("email", r["Text"]) for r in results])
        elif results:
            c.skipped.append(("spec value normalised, not verbatim", src_ref(key, path, "email"), text))
        elif re.search(r"[A-Za-z0-9]@[A-Za-z0-9-]+\.(?:com|org|net)\b", text):
            c.skipped.append(("email negative holds a valid address", src_ref(key, path, "negative"), text))
        else:
            c.neg(key, path, "negative", text, tags=("rt-email-negative",))

    # number-heavy English sentences (dates, amounts, measures, GUIDs, IPs, URLs): benign look-alikes
    for path, n in (("Specs/DateTime/English/DateTimeModel.json", 16), ("Specs/NumberWithUnit/English/CurrencyModel.json", 6),
                    ("Specs/NumberWithUnit/English/DimensionModel.json", 5), ("Specs/Number/English/NumberModel.json", 6),
                    ("Specs/Sequence/English/GUIDModel.json", 3), ("Specs/Sequence/English/IpAddressModel.json", 4),
                    ("Specs/Sequence/English/URLModel.json", 3)):
        cases = [x["Input"] for x in _rt_load(key, path) if isinstance(x, dict)
                 and len(re.sub(r"\D", "", x.get("Input", ""))) >= 6 and len(x["Input"]) < 400]
        cases = [x for x in dict.fromkeys(cases) if not re.search(r"\b\d{3}-\d{2}-\d{4}\b", x)]  # SSN-shaped: not benign
        step = max(1, len(cases) // n)
        for text in cases[::step][:n]:
            c.neg(key, path, "input", text, tags=("number-lookalike",))


# negatives that still hold a plausible value of a type we claim (a phone number, or a valid address inside an invalid one)
RT_PHONE_NEG_EXCLUDE = re.compile(r"SSN|credit card|card number|112-3333|\+45-12-34-56-78")


# ================================================================ Section 8: benign real-world text from the same repos
def extract_benign_files(c):
    # go.sum lines (module hashes)
    for key, n in (("gitleaks", 12), ("trufflehog", 12)):
        lines = [l for l in show(key, "go.sum").split("\n") if l.strip()]
        step = max(1, len(lines) // n)
        for l in lines[::step][:n]:
            c.neg(key, "go.sum", "line", l, tags=("lockfile",))
    # Cargo.lock checksums
    key = "noseyparker"
    blocks = show(key, "Cargo.lock").split("\n\n")
    blocks = [b for b in blocks if "checksum = " in b]
    step = max(1, len(blocks) // 8)
    for b in blocks[::step][:8]:
        c.neg(key, "Cargo.lock", "package", b.strip(), tags=("lockfile",))
    # package-lock.json integrity / resolved lines
    key = "recognizers-text"
    text = show(key, "JavaScript/package-lock.json")
    ints = re.findall(r'^\s*"integrity": "[^"]+",?$', text, re.M)
    res = re.findall(r'^\s*"resolved": "[^"]+",?$', text, re.M)
    for l in ints[::max(1, len(ints) // 8)][:8] + res[::max(1, len(res) // 4)][:4]:
        c.neg(key, "JavaScript/package-lock.json", "line", l.strip(), tags=("lockfile",))
    # GitHub Actions steps pinned to commit SHAs, and other CI lines
    for key in ("gitleaks", "trufflehog"):
        for path in [p for p in ls(key, ".github/workflows/") if p.endswith((".yml", ".yaml"))][:6]:
            for l in show(key, path).split("\n"):
                if re.search(r"uses: \S+@[0-9a-f]{40}", l):
                    c.neg(key, path, "uses", l.strip(), tags=("ci-config",))
    # source code lines that name secrets without holding one (variables, calls, struct fields)
    code_line = re.compile(r"(?i)(?:password|passwd|secret|token|api_?key|credential|private_?key)")
    literal = re.compile(r"[\"'`]([^\"'`]{16,})[\"'`]")
    for key, prefix, exts, n in (("gitleaks", "detect/", (".go",), 14), ("trufflehog", "pkg/engine/", (".go",), 10),
                                 ("detect-secrets", "detect_secrets/", (".py",), 14), ("presidio", "presidio-analyzer/presidio_analyzer/", (".py",), 8)):
        cands = []
        for path in ls(key, prefix):
            if not path.endswith(exts) or "_test" in path or "/test" in path:
                continue
            for l in show(key, path).split("\n"):
                s = l.strip()
                if 20 <= len(s) <= 160 and code_line.search(s) and not literal.search(s) and not s.startswith(("//", "#")) \
                        and re.search(r"[=(:]", s) and "regexp" not in s and "re.compile" not in s:
                    cands.append((path, s))
        cands = list(OrderedDict((s, p) for p, s in cands).items())
        step = max(1, len(cands) // n)
        for s, path in cands[::step][:n]:
            c.neg(key, path, "code", s, tags=("code",))
    # version / changelog lines
    key = "detect-secrets"
    lines = [l.strip() for l in show(key, "CHANGELOG.md").split("\n") if re.match(r"^#+ .*v?\d+\.\d+\.\d+", l)]
    for l in lines[:8]:
        c.neg(key, "CHANGELOG.md", "heading", l, tags=("version",))
    # RFC 2606 example addresses in documentation (reserved domains, not personal data)
    for key in ("presidio", "detect-secrets", "noseyparker", "gitleaks"):
        got = 0
        for path in [p for p in ls(key, "") if p.endswith(".md")]:
            for l in show(key, path).split("\n"):
                s = l.strip()
                if re.search(r"[\w.+-]+@example\.(?:com|org|net)\b", s) and 15 <= len(s) <= 240 \
                        and not re.search(r"@(?!example\.)[\w-]+\.[a-z]{2,}", s) and not re.search(r"\d{3}", s):
                    c.neg(key, path, "doc-line", s, tags=("rfc2606-email",))
                    got += 1
                if got >= 4:
                    break
            if got >= 4:
                break


# ================================================================ Section 9: output
def to_rows(c):
    rows = []
    for n, r in enumerate(c.records, 1):
        raw = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": r["text"]}]}, ensure_ascii=False)
        sens = [{"type": t, "category": category(t), "value": v} for t, v in r["labels"]]
        if not sens:
            expect = "allow"
        elif any(s["category"] == "secret" for s in sens):
            expect = "block"
        else:
            expect = "redact"
        tags = ["source:" + r["key"]] + r["tags"]
        for t, v in r["labels"]:
            if t == "stripe_key" and "_test_" in v and "variant:stripe-test-key" not in tags:
                tags.append("variant:stripe-test-key")
            if t == "stripe_key" and "_prod_" in v:
                tags.append("variant:stripe-prod-prefix")
        rows.append(OrderedDict([("id", "rw-%05d" % n), ("api", "openai-chat"), ("path", "/v1/chat/completions"),
                                 ("raw", raw), ("encoding", "identity"), ("expect", expect), ("sensitive", sens),
                                 ("keep", []), ("tags", tags), ("source", r["source"])]))
    return rows


def check_rows(rows):
    for row in rows:
        body = json.loads(row["raw"])
        content = body["messages"][0]["content"]
        for s in row["sensitive"]:
            assert s["value"] in content, (row["id"], s)
        assert (row["expect"] == "allow") == (not row["sensitive"]), row["id"]


def main():
    global MIRROR
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", default=MIRROR)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "realworld.jsonl"))
    ap.add_argument("--review", default=None, help="also write every record and every skipped fixture here")
    args = ap.parse_args()
    MIRROR = args.mirror
    for key, (repo, _, commit, _) in SOURCES.items():
        head = git(key, "rev-parse", "HEAD").strip()
        if head != commit:
            sys.exit("%s: snapshot HEAD %s, expected %s" % (repo, head, commit))
    c = Collector()
    extract_gitleaks(c)
    extract_detect_secrets(c)
    extract_noseyparker(c)
    extract_trufflehog(c)
    extract_presidio(c)
    extract_recognizers_text(c)
    extract_benign_files(c)
    rows = to_rows(c)
    check_rows(rows)
    with open(args.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    per_type = Counter(s["type"] for r in rows for s in r["sensitive"])
    per_source = Counter((r["tags"][0], "benign" if r["expect"] == "allow" else "positive") for r in rows)
    print("samples %d: positive %d, benign %d" % (len(rows), sum(1 for r in rows if r["sensitive"]),
                                                 sum(1 for r in rows if not r["sensitive"])))
    for t, n in sorted(per_type.items()):
        print("  %-22s %4d" % (t, n))
    for (s, kind), n in sorted(per_source.items()):
        print("  %-26s %-9s %4d" % (s, kind, n))
    if args.review:
        with open(args.review, "w") as f:
            for r in rows:
                f.write("%s %s %s %s\n    %r\n" % (r["id"], r["expect"], [(s["type"], s["value"][:60]) for s in r["sensitive"]],
                                                r["tags"], json.loads(r["raw"])["messages"][0]["content"][:300]))
            f.write("\n\n==== skipped\n")
            for why, src, text in c.skipped:
                f.write("%s | %s\n    %r\n" % (why, src, text[:200]))


if __name__ == "__main__":
    main()
