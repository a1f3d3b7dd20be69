"""Offline guard, loaded by every Python process the test suite starts.

The tests put this folder on PYTHONPATH and set COURSE_OFFLINE_GUARD=1, so the
pytest process and every notebook kernel refuse to open a connection to any
address but loopback (or a Unix socket). Each refused attempt is also appended
to $COURSE_OFFLINE_LOG, so the suite fails even if the code caught the error.
"""
import os

if os.environ.get("COURSE_OFFLINE_GUARD") == "1":
    import ipaddress
    import socket

    class OfflineError(OSError):
        pass

    def _allowed(address):
        if not isinstance(address, tuple):  # AF_UNIX path
            return True
        host = str(address[0])
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False  # a host name other than localhost would need DNS

    def _refuse(address):
        log = os.environ.get("COURSE_OFFLINE_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()} {address!r}\n")
        raise OfflineError(f"network access to {address!r} refused: the course must run offline "
                           "(only loopback is allowed during tests)")

    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
            _refuse(address)
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
            _refuse(address)
        return _connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket._course_offline_guard = True
