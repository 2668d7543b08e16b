"""The tests and the notebooks run with the network blocked (tests/netguard/sitecustomize.py).

These tests prove it: a download attempt fails, in this process and in a fresh Python process
such as a notebook kernel, while loopback connections (kernels, the site server) still work.
"""

import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest


def test_guard_is_active():
    # The root conftest.py installs it for every pytest run, however pytest is started.
    assert getattr(socket, "NETWORK_BLOCKED_BY_TESTS", False)


def test_http_download_fails():
    with pytest.raises(urllib.error.URLError, match="network access is blocked"):
        urllib.request.urlopen("https://pypi.org/simple/", timeout=5)


def test_raw_connection_to_an_address_fails():
    with socket.socket() as s, pytest.raises(ConnectionError, match="blocked"):
        s.connect(("1.1.1.1", 443))


def test_torchvision_dataset_download_fails(tmp_path, capsys):
    import torchvision

    with pytest.raises(RuntimeError, match=r"Error downloading") as failure:
        torchvision.datasets.MNIST(tmp_path, download=True)
    # the guard's reason: in the error (newer torchvision) or in what torchvision printed
    said = str(failure.value) + capsys.readouterr().out
    assert "network access is blocked" in said, said
    assert not any(tmp_path.rglob("*-ubyte")), "no data may arrive"


def test_child_processes_are_blocked_too():
    code = "import urllib.request; urllib.request.urlopen('https://example.com', timeout=5)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "network access is blocked" in done.stderr


def test_loopback_still_works():
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
