"""The test suite; :data:`ROOT` is the repository root every test resolves paths from."""
from pathlib import Path

#: The repository root (configs/, tools/, ...), the working directory of tool runs.
ROOT = Path(__file__).resolve().parents[1]
