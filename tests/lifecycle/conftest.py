from tests.e2e.conftest import nodes

__all__ = ["nodes"]
