"""The suite runs offline: only loopback connections are allowed, in this process and in its children."""
import os
import socket
import subprocess
import sys

import pytest


def test_guard_is_installed_here():
    assert getattr(socket, "_course_offline_guard", False)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=5)
    client.close()
    server.close()


def test_other_addresses_are_refused_and_logged(tmp_path, monkeypatch):
    log = tmp_path / "attempts.log"
    monkeypatch.setenv("COURSE_OFFLINE_LOG", str(log))
    with pytest.raises(OSError, match="refused: the course must run offline"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: refused before any packet is sent
    assert "192.0.2.1" in log.read_text()


def test_child_processes_inherit_the_guard(tmp_path):
    env = dict(os.environ, COURSE_OFFLINE_LOG=str(tmp_path / "child.log"))
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "must run offline" in proc.stderr
    assert "192.0.2.1" in (tmp_path / "child.log").read_text()
