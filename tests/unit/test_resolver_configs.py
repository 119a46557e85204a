"""Resolver configs as rendered, without starting anything: our anchor and hints in, the real root out, the
vendors' own config checkers happy; and the bring-your-own resolver spec parser."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.resolvers import ResolverContext, get_adapter, registry
from testbed.resolvers.bind import parse_ds
from testbed.resolvers.custom import parse_resolver_spec
from testbed.resolvers.knot import KRESCTL_PERL

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ["unbound", "bind", "knot", "pdns"]
DS = ". IN DS 18474 13 2 9DD7F00CB2147C8BF93D62F46EB4DED0BE33A9C8D38D1540CA63F84CF58898D4"
# a second anchor, as in a root KSK rollover scenario: both must be rendered
DS2 = ". 3600 IN DS 4242 13 2 0123456789ABCDEF0123456789ABCDEF 0123456789ABCDEF0123456789ABCDEF"
HINTS = (("a.root-servers.test.", "10.53.7.1"), ("b.root-servers.test.", "10.53.7.2"))

# What must never appear in a lab resolver's config: the real root servers' names and addresses, the real root
# KSKs (2010, 2017, 2024), and every RFC 5011 / built-in anchor mechanism.
REAL_ROOT_IPV4 = ("198.41.0.4", "170.247.170.2", "199.9.14.201", "192.33.4.12", "199.7.91.13", "192.203.230.10",
                  "192.5.5.241", "192.112.36.4", "198.97.190.53", "192.36.148.17", "192.58.128.30", "193.0.14.129",
                  "199.7.83.42", "202.12.27.33")
FORBIDDEN = ("root-servers.net", "2001:503:", "2001:500:", "2001:7fe:", "2001:dc3:",
             "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",      # KSK-2017 (20326) SHA-256
             "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",      # KSK-2024 (38696) SHA-256
             "auto-trust-anchor-file", "initial-ds", "initial-key", "managed-keys {", "dnssec-validation auto",
             "readTrustAnchorsFromFile", "add_file", "root.key", "ta_update.start")
SECRET = re.compile(r'secret "[^"]*"')
ABS_PATH = re.compile(r"(?<![\w./])/(?:[\w.+-]+/)*[\w.+-]+")


def context(folder: Path, *anchors: str) -> ResolverContext:
    return ResolverContext(address="10.53.7.103", subnet="10.53.7.0/24", folder=folder, root_hints=HINTS,
                           trust_anchor_ds=anchors or (DS,))


def render_into(name: str, folder: Path, *anchors: str) -> tuple[ResolverContext, dict[str, str]]:
    ctx = context(folder, *anchors)
    files = get_adapter(name).render(ctx)
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return ctx, files


def test_all_four_adapters_are_registered_with_an_image_recipe() -> None:
    assert set(ADAPTERS) <= set(registry())
    for name in ADAPTERS:
        adapter = get_adapter(name)
        assert adapter.name == name
        assert (ROOT / "compose" / adapter.image / "Dockerfile").is_file(), adapter.image


@pytest.mark.parametrize("name", ADAPTERS)
def test_rendered_config_holds_our_anchor_and_hints_and_nothing_of_the_real_root(name: str, tmp_path: Path) -> None:
    ctx, files = render_into(name, tmp_path)
    text = "\n".join(files.values())
    upper = text.upper()
    assert "18474" in text and "9DD7F00CB2147C8BF93D62F46EB4DED0BE33A9C8D38D1540CA63F84CF58898D4" in upper
    for ns_name, address in HINTS:
        assert ns_name in text and address in text
    assert ctx.address in text
    for needle in FORBIDDEN + REAL_ROOT_IPV4:
        assert needle.upper() not in upper, f"{name} config mentions {needle}"
    # every file the daemon reads or writes lives in the host folder: nothing of the machine's own setup leaks
    # in, and the same paths work inside a container that mounts the folder at the same place
    # (a random base64 secret may hold "+/..." or start with "/": it is no path)
    for path in ABS_PATH.findall(SECRET.sub('secret ""', text)):
        assert path.startswith(str(tmp_path)), f"{name} config refers to {path}"


@pytest.mark.parametrize("name", ADAPTERS)
def test_commands_point_into_the_host_folder(name: str, tmp_path: Path) -> None:
    adapter = get_adapter(name)
    ctx = context(tmp_path)
    command, flush = adapter.command(ctx), adapter.flush_command(ctx)
    assert command[0] == adapter.binary
    assert any(str(tmp_path) in word for word in command)
    assert any(str(tmp_path) in word for word in flush)
    # control sockets must fit sun_path (108 bytes) even in a deep lab folder
    assert len(str(Path("/tmp/dnssec-testbed/abcdef/hosts") / name / "kresd.ctl")) < 108


@pytest.mark.parametrize("name", ["bind", "knot", "pdns"])
def test_every_anchor_is_rendered_and_the_built_in_ones_removed_first(name: str, tmp_path: Path) -> None:
    _, files = render_into(name, tmp_path, DS, DS2)
    text = "\n".join(files.values())
    assert "4242" in text and "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" in text.upper()
    if name == "knot":
        assert text.index("trust_anchors.remove('.')") < text.index("trust_anchors.add(")
    if name == "pdns":
        assert text.index("clearTA('.')") < text.index("addTA(")


def test_bind_anchor_is_static_and_validation_uses_only_it(tmp_path: Path) -> None:
    _, files = render_into("bind", tmp_path)
    conf = files["named.conf"]
    assert '. static-ds 18474 13 2 "9DD7F00CB2147C8BF93D62F46EB4DED0BE33A9C8D38D1540CA63F84CF58898D4";' in conf
    assert "dnssec-validation yes;" in conf
    assert 'zone "." { type hint;' in conf
    # the rndc key is real HMAC-SHA256 material and the same key is on both ends
    secret = re.search(r'secret "([^"]+)"', files["rndc.key"])
    assert secret and len(secret.group(1)) == 44
    assert 'include "' + str(tmp_path / "rndc.key") in files["rndc.conf"]


def test_bind_rndc_keys_differ_per_render(tmp_path: Path) -> None:
    adapter = get_adapter("bind")
    first = adapter.render(context(tmp_path))["rndc.key"]
    assert first != adapter.render(context(tmp_path))["rndc.key"]


def test_parse_ds_accepts_ttl_and_split_digests() -> None:
    ds = parse_ds(DS2)
    assert (ds.owner, ds.key_tag, ds.algorithm, ds.digest_type) == (".", 4242, 13, 2)
    assert ds.digest_hex == "0123456789ABCDEF" * 4
    with pytest.raises(ValueError):
        parse_ds(". IN DNSKEY 257 3 13 AAAA")


@pytest.mark.skipif(shutil.which("unbound-checkconf") is None, reason="needs unbound-checkconf (unbound)")
def test_unbound_checkconf_accepts_the_rendered_config(tmp_path: Path) -> None:
    render_into("unbound", tmp_path)
    proc = subprocess.run(["unbound-checkconf", str(tmp_path / "unbound.conf")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("named-checkconf") is None, reason="needs named-checkconf (bind9-utils)")
def test_named_checkconf_accepts_the_rendered_config(tmp_path: Path) -> None:
    render_into("bind", tmp_path, DS, DS2)
    proc = subprocess.run(["named-checkconf", str(tmp_path / "named.conf")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("pdns_recursor") is None, reason="needs pdns_recursor (pdns-recursor)")
def test_pdns_config_check_accepts_the_rendered_config(tmp_path: Path) -> None:
    render_into("pdns", tmp_path)
    # --config=check parses recursor.conf and rejects unknown or malformed settings, then exits
    proc = subprocess.run(["pdns_recursor", f"--config-dir={tmp_path}", "--config=check"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_knot_prepare_removes_the_persistent_cache(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "data.mdb").write_bytes(b"old answers")
    get_adapter("knot").prepare(context(tmp_path))
    assert not (tmp_path / "cache").exists()


# ---- the kresd control-socket client, against a stand-in speaking kresd's prompt protocol ---------------------
def fake_kresd(path: Path, replies: dict[str, str], seen: list[str]) -> threading.Thread:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn, server:
            conn.sendall(b"> ")
            line = conn.makefile("rb").readline().decode().strip()
            seen.append(line)
            conn.sendall(replies.get(line, "error: unknown").encode() + b"\n> ")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl (perl-base)")
def test_kresd_flush_client_speaks_the_prompt_protocol(tmp_path: Path) -> None:
    sock = tmp_path / "kresd.ctl"
    seen: list[str] = []
    thread = fake_kresd(sock, {"cache.clear()": "{\n    ['count'] = 24,\n}"}, seen)
    argv = get_adapter("knot").flush_command(context(tmp_path))
    assert argv[:3] == ["perl", "-e", KRESCTL_PERL]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    thread.join(5)
    assert seen == ["cache.clear()"]
    assert proc.returncode == 0 and "['count'] = 24" in proc.stdout


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl (perl-base)")
def test_kresd_flush_client_fails_when_kresd_reports_a_lua_error(tmp_path: Path) -> None:
    # kresd answers a failing command with a traceback as an ordinary reply: only the content tells
    seen: list[str] = []
    thread = fake_kresd(tmp_path / "kresd.ctl", {"cache.clear()": "[string \"cache.clear()\"]:1: boom"}, seen)
    proc = subprocess.run(get_adapter("knot").flush_command(context(tmp_path)), capture_output=True, text=True,
                          timeout=10, check=False)
    thread.join(5)
    assert seen == ["cache.clear()"]
    assert proc.returncode == 1 and "boom" in proc.stdout


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl (perl-base)")
def test_kresd_flush_client_fails_loudly_without_a_daemon(tmp_path: Path) -> None:
    proc = subprocess.run(get_adapter("knot").flush_command(context(tmp_path)), capture_output=True, text=True,
                          timeout=10, check=False)
    assert proc.returncode != 0 and "cannot connect" in proc.stderr


# ---- bring your own resolver -----------------------------------------------------------------------------------
def test_a_plain_name_is_the_registered_adapter() -> None:
    adapter = parse_resolver_spec("bind")
    assert type(adapter) is registry()["bind"]


def test_image_option_keeps_config_and_commands(tmp_path: Path) -> None:
    adapter = parse_resolver_spec("unbound:image=myorg/unbound:dev")
    stock = get_adapter("unbound")
    ctx = context(tmp_path)
    assert adapter.image == "myorg/unbound:dev" and adapter.name == "unbound"
    assert adapter.command(ctx) == stock.command(ctx)
    assert adapter.flush_command(ctx) == stock.flush_command(ctx)
    assert adapter.render(ctx) == stock.render(ctx)
    assert getattr(adapter, "base_name", None) == "unbound"


def test_binary_option_swaps_the_daemon_and_finds_its_control_tool(tmp_path: Path) -> None:
    prefix = tmp_path / "opt" / "sbin"
    prefix.mkdir(parents=True)
    for tool in ("unbound", "unbound-control"):
        (prefix / tool).write_text("#!/bin/sh\necho Version 1.99.0\n")
        (prefix / tool).chmod(0o755)
    adapter = parse_resolver_spec(f"unbound:binary={prefix / 'unbound'},name=unbound-dev")
    ctx = context(tmp_path)
    assert adapter.name == "unbound-dev"
    assert adapter.command(ctx)[0] == str(prefix / "unbound")
    assert adapter.flush_command(ctx)[0] == str(prefix / "unbound-control")
    assert adapter.available_locally()
    assert adapter.local_version() == "1.99.0"
    assert "unbound-dev" not in registry()          # a custom adapter never leaks into the registry


@pytest.mark.parametrize("name", ["bind", "knot", "pdns"])
def test_binary_option_works_for_every_adapter(name: str, tmp_path: Path) -> None:
    adapter = parse_resolver_spec(f"{name}:binary=/opt/x/sbin/daemon")
    assert adapter.command(context(tmp_path))[0] == "/opt/x/sbin/daemon"


def test_adapter_file_with_commands_and_placeholders(tmp_path: Path) -> None:
    spec = tmp_path / "kresd-dev.yaml"
    spec.write_text("""\
name: knot-dev
base: knot
image: myorg/kresd:dev
binary: /opt/kresd/sbin/kresd
command: ["{binary}", "-n", "-c", "{folder}/kresd.conf", "{folder}"]
flush: ["/opt/kresd/bin/flush", "{folder}/kresd.ctl", "{address}", "{subnet}"]
version: ["{binary}", "-V"]
version_pattern: 'version (\\S+)'
""")
    adapter = parse_resolver_spec(str(spec))
    ctx = context(tmp_path)
    assert adapter.name == "knot-dev" and adapter.image == "myorg/kresd:dev"
    assert adapter.command(ctx) == ["/opt/kresd/sbin/kresd", "-n", "-c", f"{tmp_path}/kresd.conf", str(tmp_path)]
    assert adapter.flush_command(ctx) == ["/opt/kresd/bin/flush", f"{tmp_path}/kresd.ctl", "10.53.7.103",
                                          "10.53.7.0/24"]
    # the base's config: our anchor, hints and the special-use policy come with it
    assert adapter.render(ctx) == get_adapter("knot").render(ctx)
    assert adapter.local_version() == "unknown"     # no such binary here


@pytest.mark.parametrize(("text", "line", "words"), [
    ("base: nosuch\n", 1, "unknown base adapter"),
    ("name: x\n", 1, "no 'base'"),
    ("base: unbound\nimgae: foo\n", 2, "unknown key 'imgae'"),
    ("base: unbound\ncommand: unbound -d\n", 2, "must be a non-empty list"),
    ("base: unbound\nflush: [\"{bin}\", reload]\n", 2, "unknown placeholder {bin}"),
    ("base: unbound\nname: Unbound Dev\n", 2, "not usable as a host name"),
    ("base: unbound\nversion_pattern: 'Version \\S+'\n", 2, "has no group"),
    ("base: [unbound\n", 2, "not valid YAML"),
    ("- base: unbound\n", 1, "must be a mapping"),
])
def test_adapter_file_errors_name_file_line_and_fix(tmp_path: Path, text: str, line: int, words: str) -> None:
    spec = tmp_path / "adapter.yaml"
    spec.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        parse_resolver_spec(str(spec))
    err = caught.value
    assert words in err.message
    assert err.file == str(spec) and err.line == line
    assert err.fix


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty resolver name"),
    ("nosuch", "unknown resolver 'nosuch'"),
    ("unbound:colour=blue", "cannot read 'colour=blue'"),
    ("unbound:image=", "image= has no value"),
    ("unbound:image=a,image=b", "given twice"),
    ("unbound:name=UB", "not usable as a host name"),
    ("missing/adapter.yaml", "no such adapter file"),
])
def test_inline_spec_errors_say_what_to_write(text: str, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_resolver_spec(text)
    assert words in caught.value.message and caught.value.fix
