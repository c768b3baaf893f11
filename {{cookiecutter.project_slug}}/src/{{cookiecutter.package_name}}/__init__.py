"""The {{ cookiecutter.package_name }} package."""

__all__ = ["greeting"]


def greeting(name: str) -> str:
    """Return a friendly greeting for `name`."""
    return f"Hello, {name}!"
