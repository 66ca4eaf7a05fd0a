"""The stand-in busybox does what tutorials ask of busybox:1.36, run straight on this machine.

The binary comes from ``devtools.busybox_build`` (built once, then cached). Every server here
listens on 127.0.0.1, or inside a network namespace this test makes with ``unshare -n`` that
ends with its process. The resolv.conf scenario runs the binary chrooted in a tiny root, as
a pod would see it: only /bin/busybox, /etc/hosts and /etc/resolv.conf, no libraries.

Run as a script (``python3 THIS_FILE netns ROOT``) it is the helper that runs inside that
namespace.
"""

from __future__ import annotations

import http.server
import json
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

pytestmark = pytest.mark.e2e

Results = dict[str, dict[str, Any]]  # command -> {"rc", "out", "err"}

# --- a fake DNS server: A records from a table, NXDOMAIN for other names ----------------------


def dns_answer(query: bytes, table: dict[str, str]) -> bytes:
    """The response to one DNS query: an A record when its name is in ``table``."""
    qid, _flags, qdcount = struct.unpack("!HHH", query[:6])
    labels, i = [], 12
    while query[i]:
        labels.append(query[i + 1 : i + 1 + query[i]].decode())
        i += 1 + query[i]
    question = query[12 : i + 5]
    qtype = struct.unpack("!H", query[i + 1 : i + 3])[0]
    name = ".".join(labels).lower()
    if name not in table:
        return struct.pack("!HHHHHH", qid, 0x8183, qdcount, 0, 0, 0) + question
    if qtype != 1:  # the name exists, with no record of that type
        return struct.pack("!HHHHHH", qid, 0x8180, qdcount, 0, 0, 0) + question
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(table[name])
    return struct.pack("!HHHHHH", qid, 0x8180, qdcount, 1, 0, 0) + question + record


class FakeDNS(socketserver.ThreadingUDPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], table: dict[str, str]) -> None:
        self.table = table
        self.queries: list[str] = []
        super().__init__(address, _DNSHandler)


class _DNSHandler(socketserver.BaseRequestHandler):
    server: FakeDNS

    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(dns_answer(data, self.server.table), self.client_address)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def _netns_helper(root: str) -> None:
    """Inside a fresh network namespace: DNS on 127.0.0.1:53, HTTP on 127.0.0.2:8080; run
    the chrooted busybox against them and print what each command did as JSON."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    dns = FakeDNS(("127.0.0.1", 53), {"web.default.svc.cluster.local": "127.0.0.2"})
    handler = lambda *a: _Quiet(*a, directory=f"{root}/www")  # noqa: E731
    web = http.server.ThreadingHTTPServer(("127.0.0.2", 8080), handler)
    _serve(dns)
    _serve(web)
    commands = {
        "nslookup": ["nslookup", "web.default.svc.cluster.local"],
        "wget-short-name": ["wget", "-q", "-O", "-", "http://web:8080/"],
        "wget-nxdomain": ["wget", "-q", "-O", "-", "http://nothere:8080/"],
        "ping-by-name": ["ping", "-c", "1", "-W", "2", "web.default.svc.cluster.local"],
    }
    results = {}
    for key, argv in commands.items():
        done = subprocess.run(
            ["chroot", root, "/bin/busybox", *argv], capture_output=True, text=True, timeout=20
        )
        results[key] = {"rc": done.returncode, "out": done.stdout, "err": done.stderr}
    print(json.dumps(results))
    web.shutdown()
    dns.shutdown()


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busybox() -> Path:
    from devtools import busybox_build

    return busybox_build.standin_busybox()


def run(
    busybox: Path, *args: str, stdin: int | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one applet to completion (20 s at most), capturing its output as text."""
    return subprocess.run(
        [str(busybox), *args],
        stdin=stdin,
        input=input,
        capture_output=True,
        text=True,
        timeout=20,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 that accepts nothing by itself."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s


@pytest.fixture
def web(tmp_path: Path) -> Iterator[int]:
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields its port."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www/index.html").write_text("hello from the fake backend\n")
    handler = lambda *a: _Quiet(*a, directory=str(tmp_path / "www"))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    _serve(server)
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; each is killed (by its own pid) and reaped at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=5)
        for stream in (p.stdout, p.stderr, p.stdin):
            if stream:
                stream.close()


def start(
    processes: list[subprocess.Popen[str]], busybox: Path, *args: str
) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [str(busybox), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    processes.append(p)
    return p


def listening(port: int) -> bool:
    """Whether a TCP socket listens on ``port`` (from /proc, so no connection is used up)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                return True
    return False


def wait_for_port(port: int, deadline: float = 5.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if listening(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def read_line_containing(stream: IO[str] | None, text: str, deadline: float = 5.0) -> str:
    """The first line of ``stream`` containing ``text``, read on a thread within ``deadline``."""
    found: list[str] = []

    def reader() -> None:
        assert stream is not None
        for line in stream:
            if text in line:
                found.append(line)
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(deadline)
    assert found, f"no line with {text!r} within {deadline} s"
    return found[0]


# --- the recipe (pure parts of devtools.busybox_build) --------------------------------------------

DEFCONFIG = "CONFIG_A=y\n# CONFIG_STATIC is not set\nCONFIG_WCHAR=767\nCONFIG_FANCY=y\n"
UNSET_STATIC, UNSET_FANCY = "# CONFIG_STATIC is not set", "# CONFIG_FANCY is not set"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ((("CONFIG_STATIC", "y"),), DEFCONFIG.replace(UNSET_STATIC, "CONFIG_STATIC=y")),
        ((("CONFIG_WCHAR", "0"),), DEFCONFIG.replace("CONFIG_WCHAR=767", "CONFIG_WCHAR=0")),
        ((("CONFIG_FANCY", None),), DEFCONFIG.replace("CONFIG_FANCY=y", UNSET_FANCY)),
        ((("CONFIG_NEW", "y"),), DEFCONFIG + "CONFIG_NEW=y\n"),
    ],
    ids=["a symbol not set is set", "a value is replaced", "a set symbol is unset",
         "an unknown symbol is appended"],
)  # fmt: skip
def test_apply_config_makes_each_change(
    changes: tuple[tuple[str, str | None], ...], expected: str
) -> None:
    from devtools.busybox_build import apply_config

    assert apply_config(DEFCONFIG, changes) == expected


def test_unmet_changes_names_what_kconfig_dropped() -> None:
    from devtools.busybox_build import unmet_changes

    wanted = (("CONFIG_STATIC", "y"), ("CONFIG_FANCY", None), ("CONFIG_A", "y"))
    assert unmet_changes(DEFCONFIG, wanted) == ["CONFIG_STATIC=y", "-CONFIG_FANCY"]


def test_deb_src_lines_keep_only_debian_main_of_this_release() -> None:
    from devtools.busybox_build import ARCHIVE_KEYRING, deb_src_lines

    targets = "\n".join(
        [
            "deb http://mirror.invalid/debian/ bookworm main Debian",
            "deb http://mirror.invalid/debian/ bookworm main Debian",  # one per index file
            "deb http://mirror.invalid/debian-security/ bookworm-security main Debian",
            "deb http://other.invalid/apt cloud-sdk-bookworm main Google",
            "deb http://other.invalid/node nodistro main Node",
            "deb http://mirror.invalid/debian/ trixie main Debian",
            "deb http://third.invalid/ bookworm main Vendor",
            "deb http://mirror.invalid/debian/ bookworm contrib Debian",
            "deb http://nolists.invalid/debian/ bookworm-updates main",
        ]
    )
    assert deb_src_lines(targets, "bookworm") == [
        f"deb-src [signed-by={ARCHIVE_KEYRING}] http://mirror.invalid/debian/ bookworm main",
        f"deb-src [signed-by={ARCHIVE_KEYRING}] http://mirror.invalid/debian-security/"
        " bookworm-security main",
        f"deb-src [signed-by={ARCHIVE_KEYRING}] http://nolists.invalid/debian/"
        " bookworm-updates main",
    ]


def test_the_cache_key_changes_with_anything_the_binary_depends_on() -> None:
    from devtools.busybox_build import Recipe

    base = Recipe(version="1:1.35.0-4+deb12u1", arch="amd64", libc="2.36-9")
    variants = [
        Recipe(version="1:1.35.0-4+deb12u2", arch="amd64", libc="2.36-9"),
        Recipe(version="1:1.35.0-4+deb12u1", arch="arm64", libc="2.36-9"),
        Recipe(version="1:1.35.0-4+deb12u1", arch="amd64", libc="2.36-10"),
        Recipe(version="1:1.35.0-4+deb12u1", arch="amd64", libc="2.36-9", changes=()),
        Recipe(version="1:1.35.0-4+deb12u1", arch="amd64", libc="2.36-9", revision=2),
    ]
    assert len({base.key, *(v.key for v in variants)}) == 1 + len(variants)
    assert base.key == Recipe(version="1:1.35.0-4+deb12u1", arch="amd64", libc="2.36-9").key
    assert base.dirname == f"busybox-1_1.35.0-4+deb12u1-amd64-{base.key}"


# --- the binary --------------------------------------------------------------------------------

TUTORIAL_APPLETS = [
    "sh", "nc", "nslookup", "wget", "tail", "httpd", "timeout", "sleep", "seq", "ip",
    "ifconfig", "hostname", "ping", "traceroute", "env", "awk", "sed", "grep", "date", "nohup",
    "pgrep", "pkill", "flock", "install", "comm", "split", "mountpoint", "printenv", "ar",
]  # fmt: skip


def test_the_binary_is_static_and_says_where_it_came_from(busybox: Path) -> None:
    banner = run(busybox).stdout.splitlines()[0]
    assert banner.startswith("BusyBox v1.35.0 (kubelite stand-in from Debian 1:1.35.0")
    ldd = subprocess.run(["ldd", str(busybox)], capture_output=True, text=True)
    assert "not a dynamic executable" in ldd.stdout + ldd.stderr


@pytest.mark.parametrize("applet", TUTORIAL_APPLETS)
def test_the_applets_tutorials_use_are_built_in(busybox: Path, applet: str) -> None:
    assert applet in run(busybox, "--list").stdout.split()


# --- nc ------------------------------------------------------------------------------------------


def test_nc_z_exits_0_when_something_listens(busybox: Path, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    assert run(busybox, "nc", "-z", "127.0.0.1", str(port)).returncode == 0


def test_nc_z_exits_1_when_nothing_listens(busybox: Path) -> None:
    assert run(busybox, "nc", "-z", "127.0.0.1", str(free_port())).returncode == 1


def test_nc_z_with_w_gives_up_on_a_silent_peer_within_its_timeout(
    busybox: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    started = time.monotonic()
    done = run(busybox, "nc", "-w", "1", "127.0.0.1", str(port), stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    assert done.returncode == 0
    assert 0.8 < elapsed < 5


def test_nc_lk_with_e_serves_every_connection(
    busybox: Path, processes: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    start(processes, busybox, "nc", "-lk", "-p", str(port), "-e", "echo", "pong")
    wait_for_port(port)
    for _ in range(3):
        got = run(busybox, "nc", "-w", "2", "127.0.0.1", str(port), stdin=subprocess.DEVNULL)
        assert got.stdout == "pong\n"


def test_nc_l_k_without_e_serves_one_connection_as_upstream_does(
    busybox: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """busybox's nc keeps listening (-k, -ll) only with -e; a tutorial that loops
    ``nc -l -p N`` in a shell gets a fresh listener per request."""
    port = free_port()
    server = start(processes, busybox, "nc", "-l", "-p", str(port), "-k")
    assert server.stdin is not None
    server.stdin.close()
    wait_for_port(port)
    run(busybox, "nc", "-w", "1", "127.0.0.1", str(port), input="first\n")
    assert server.wait(timeout=5) == 0
    assert server.stdout is not None and server.stdout.read() == "first\n"


def test_nc_ll_e_forwards_like_the_ambassador_example(
    busybox: Path, web: int, processes: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    start(processes, busybox, "nc", "-ll", "-p", str(port), "-e", str(busybox), "nc",
          "127.0.0.1", str(web))  # fmt: skip
    wait_for_port(port)
    for _ in range(2):
        got = run(busybox, "wget", "-q", "-O", "-", f"http://127.0.0.1:{port}/")
        assert got.stdout == "hello from the fake backend\n"


# --- DNS -----------------------------------------------------------------------------------------


@pytest.fixture
def fake_dns() -> Iterator[FakeDNS]:
    server = FakeDNS(("127.0.0.1", 0), {"web.default.svc.cluster.local": "127.0.0.2"})
    _serve(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_nslookup_asks_the_server_given_as_host_colon_port(
    busybox: Path, fake_dns: FakeDNS
) -> None:
    port = fake_dns.server_address[1]
    done = run(busybox, "nslookup", "web.default.svc.cluster.local", f"127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr
    assert f"Address:\t127.0.0.1:{port}" in done.stdout
    assert "Name:\tweb.default.svc.cluster.local\nAddress: 127.0.0.2" in done.stdout


def test_nslookup_of_an_unknown_name_fails_with_nxdomain(busybox: Path, fake_dns: FakeDNS) -> None:
    port = fake_dns.server_address[1]
    done = run(busybox, "nslookup", "nothere.example", f"127.0.0.1:{port}")
    assert done.returncode == 1
    assert "NXDOMAIN" in done.stdout + done.stderr


def test_nslookup_without_a_host_prints_its_usage(busybox: Path) -> None:
    done = run(busybox, "nslookup")
    assert done.returncode == 1
    assert "Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]" in done.stderr


@pytest.fixture(scope="module")
def netns_results(busybox: Path, tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Run the resolv.conf scenario once: a root with only busybox, /etc/hosts and a
    kubelet-style /etc/resolv.conf, in a network namespace of its own."""
    root = tmp_path_factory.mktemp("netns-root")
    (root / "bin").mkdir()
    (root / "etc").mkdir()
    (root / "www").mkdir()
    (root / "bin/busybox").write_bytes(busybox.read_bytes())
    (root / "bin/busybox").chmod(0o755)
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n")
    (root / "etc/resolv.conf").write_text(
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 127.0.0.1\n"
        "options ndots:5\n"
    )
    (root / "www/index.html").write_text("found by name\n")
    done = subprocess.run(
        ["unshare", "--net", "--", sys.executable, __file__, "netns", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results: Results = json.loads(done.stdout.splitlines()[-1])
    return results


def test_nslookup_uses_the_nameserver_in_etc_resolv_conf(netns_results: Results) -> None:
    got = netns_results["nslookup"]
    assert got["rc"] == 0, got
    assert "Server:\t\t127.0.0.1" in got["out"]
    assert "Address: 127.0.0.2" in got["out"]


def test_wget_resolves_a_short_name_through_the_search_list_with_no_libraries(
    netns_results: Results,
) -> None:
    got = netns_results["wget-short-name"]
    assert (got["rc"], got["out"]) == (0, "found by name\n"), got


def test_wget_of_an_unknown_name_says_bad_address(netns_results: Results) -> None:
    got = netns_results["wget-nxdomain"]
    assert got["rc"] == 1
    assert "bad address 'nothere:8080'" in got["err"]


def test_ping_resolves_a_name_and_gets_a_reply(netns_results: Results) -> None:
    got = netns_results["ping-by-name"]
    assert got["rc"] == 0, got
    assert "1 packets received" in got["out"]


# --- HTTP ----------------------------------------------------------------------------------------


def test_wget_prints_a_page_to_stdout(busybox: Path, web: int) -> None:
    done = run(busybox, "wget", "-q", "-O", "-", f"http://127.0.0.1:{web}/")
    assert (done.returncode, done.stdout) == (0, "hello from the fake backend\n")


def test_wget_of_a_missing_page_exits_1_with_the_status(busybox: Path, web: int) -> None:
    done = run(busybox, "wget", "-q", "-O", "-", f"http://127.0.0.1:{web}/missing")
    assert done.returncode == 1
    assert "404" in done.stderr


def test_httpd_vv_logs_the_url_of_every_request(
    busybox: Path, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    (tmp_path / "hello.txt").write_text("hi\n")
    port = free_port()
    server = start(processes, busybox, "httpd", "-f", "-vv", "-p", str(port), "-h", str(tmp_path))
    wait_for_port(port)
    got = run(busybox, "wget", "-q", "-O", "-", f"http://127.0.0.1:{port}/hello.txt")
    assert got.stdout == "hi\n"
    line = read_line_containing(server.stderr, "url:")
    assert line.rstrip().endswith("url:/hello.txt")
    assert "response:200" in read_line_containing(server.stderr, "response:")


# --- files, time and processes -------------------------------------------------------------------


def test_tail_F_follows_a_file_that_appears_later(
    busybox: Path, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "app.log"
    tail = start(processes, busybox, "tail", "-F", str(log))
    time.sleep(0.5)
    with log.open("a") as f:
        f.write("request 1 served\n")
    assert read_line_containing(tail.stdout, "request 1") == "request 1 served\n"
    with log.open("a") as f:
        f.write("request 2 served\n")
    assert read_line_containing(tail.stdout, "request 2") == "request 2 served\n"


def test_timeout_stops_a_command_that_runs_too_long(busybox: Path) -> None:
    started = time.monotonic()
    done = run(busybox, "sh", "-c", "timeout 1 sleep 10; echo $?")
    assert time.monotonic() - started < 5
    assert done.stdout.strip() != "0"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("seq", "3"), "1\n2\n3\n"),
        (("seq", "-s", ",", "2", "4"), "2,3,4\n"),
        (("sh", "-c", "sleep 0.1 && echo slept"), "slept\n"),
        (("sh", "-c", "echo $((6 * 7))"), "42\n"),
        (("printf", "%s-%s\\n", "a", "b"), "a-b\n"),
    ],
)
def test_small_commands_print_what_scripts_expect(
    busybox: Path, args: tuple[str, ...], expected: str
) -> None:
    done = run(busybox, *args)
    assert (done.returncode, done.stdout) == (0, expected)


def test_hostname_prints_the_host_name(busybox: Path) -> None:
    assert run(busybox, "hostname").stdout.strip() == socket.gethostname()


@pytest.mark.parametrize(
    "args", [("ip", "addr", "show", "lo"), ("ifconfig", "lo"), ("ip", "route")]
)
def test_network_tools_read_the_interfaces(busybox: Path, args: tuple[str, ...]) -> None:
    done = run(busybox, *args)
    assert done.returncode == 0, done.stderr
    if args[0] != "ip" or args[1] != "route":
        assert "127.0.0.1" in done.stdout


def test_ping_gets_a_reply_from_loopback(busybox: Path) -> None:
    done = run(busybox, "ping", "-c", "1", "-W", "2", "127.0.0.1")
    assert done.returncode == 0, done.stdout + done.stderr


def test_traceroute_reaches_loopback_in_one_hop(busybox: Path) -> None:
    done = run(busybox, "traceroute", "-n", "-m", "2", "-q", "1", "-w", "1", "127.0.0.1")
    assert done.returncode == 0, done.stderr
    assert " 1  127.0.0.1" in done.stdout


if __name__ == "__main__" and sys.argv[1:2] == ["netns"]:
    _netns_helper(sys.argv[2])
