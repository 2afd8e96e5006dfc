"""Debian's nginx serving the exported status page: a child process on a generated config.

Nothing of the system's nginx is used but the binary: the config, pid file,
logs and temp directories all live in the benchmark's temporary directory
(``-p`` prefix, ``-c`` config, ``-e`` early error log), and the process runs
in the foreground (``daemon off``) so that stopping it is stopping a child.
"""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench import server as server_mod

NGINX = "/usr/sbin/nginx"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
COMPRESSED = (".html", ".json", ".atom", ".rss")

CONFIG = """\
{user}daemon off;
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    types {{
        text/html html;
        application/json json;
        application/atom+xml atom;
        application/rss+xml rss;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/html;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    etag on;
    gzip_static on;
    gzip on;
    gzip_types application/json application/atom+xml application/rss+xml;
    gzip_vary on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        add_header Cache-Control "public, max-age=10";
    }}
}}
"""


class NotInstalled(RuntimeError):
    """A Debian package is missing and this process may not install it."""


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    base_url: str
    prefix: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def binary() -> str | None:
    return NGINX if Path(NGINX).exists() else shutil.which("nginx")


def ensure(package: str, path: str) -> str:
    """The binary at ``path`` (or on PATH), from Debian's ``package`` if missing and root."""
    found = path if Path(path).exists() else shutil.which(Path(path).name)
    if found:
        return found
    if os.geteuid() != 0:
        raise NotInstalled(
            f"{package} is not installed: as root, run `apt-get -y install {package}`"
        )
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "-y", "-qq", "install", package]):
        print(f"installing {package}: {' '.join(command)}", flush=True)
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    found = path if Path(path).exists() else shutil.which(Path(path).name)
    if not found:
        raise NotInstalled(f"apt-get install {package} left no {path}")
    return found


def version() -> str:
    found = binary()
    if found is None:
        return "missing"
    done = subprocess.run([found, "-v"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip()


def precompress(root: Path) -> int:
    """A .gz beside every text file, as `gzip -k -9` would (for gzip_static)."""
    count = 0
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in COMPRESSED:
            packed = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
            path.with_name(path.name + ".gz").write_bytes(packed)
            count += 1
    return count


def write_config(prefix: Path, root: Path, port: int) -> Path:
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    # As root the workers would drop to `nobody`, who cannot read a 0700 temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    config.write_text(CONFIG.format(user=user, prefix=prefix, root=root, port=port))
    return config


@contextmanager
def running(prefix: Path, root: Path, port: int) -> Iterator[Nginx]:
    """nginx serving ``root`` on 127.0.0.1:``port`` until the block ends."""
    found = binary()
    if found is None:
        raise NotInstalled("nginx is not installed")
    prefix.mkdir(parents=True, exist_ok=True)
    config = write_config(prefix, root, port)
    command = [found, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "nginx-error.log")]
    with (prefix / "nginx-stdout.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = Nginx(process, f"http://127.0.0.1:{port}", prefix)
    try:
        _wait_ready(server, port)
        yield server
    finally:
        stop(server)


def _wait_ready(server: Nginx, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"nginx exited early:\n{log_tail(server)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
        try:
            connection.request("GET", "/status/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.02)
    raise RuntimeError(f"nginx not answering after {START_TIMEOUT:.0f} s:\n{log_tail(server)}")


def stop(server: Nginx) -> None:
    """SIGQUIT (graceful: the master waits for its workers), then SIGKILL to each of them."""
    process = server.process
    if process.poll() is not None:
        return
    pids = server_mod.process_tree(process.pid)
    process.send_signal(signal.SIGQUIT)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        for pid in reversed(pids):  # the workers this master started, then the master
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


def log_tail(server: Nginx, lines: int = 20) -> str:
    texts = []
    for name in ("nginx-error.log", "nginx-stdout.log"):
        with suppress(OSError):
            texts += (server.prefix / name).read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(texts) or "(no log)"
