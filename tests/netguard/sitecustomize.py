"""Block every network connection except to this machine, in this process and its children.

Put this folder on ``PYTHONPATH`` (``make test`` and ``make execute`` do) and every Python
process started from there, the notebooks' kernels included, imports it at start-up. Connections
to loopback addresses and Unix sockets still work: the kernel's ZeroMQ channels and the site
test's local web server need them. Anything else raises :class:`NetworkBlockedError`, so a
notebook that tries to download fails loudly instead of passing because this machine happened to
have a network.
"""

import ipaddress
import socket

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkBlockedError(ConnectionError):
    """A connection to a host other than this machine was attempted while tests run."""


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or str(host).lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a host name other than localhost: it would need DNS
    return address.is_loopback or address.is_unspecified


def _check(address) -> None:
    if isinstance(address, tuple) and address and not _is_local(address[0]):
        raise NetworkBlockedError(f"network access is blocked while testing: {address[0]!r}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise NetworkBlockedError(f"network access is blocked while testing: {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


if not getattr(socket, "NETWORK_BLOCKED_BY_TESTS", False):  # install once per process
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.NETWORK_BLOCKED_BY_TESTS = True
