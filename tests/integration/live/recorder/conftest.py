"""Fixtures of the recorder tests: the daemon's, to run one beside the recorder."""

from tests.integration.live.daemon.conftest import socket_path

__all__ = ["socket_path"]
