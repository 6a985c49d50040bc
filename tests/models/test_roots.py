"""Where the tools keep their results and caches: in a source checkout its own folders, in an installed copy never
inside site-packages."""

from __future__ import annotations

from pathlib import Path

from models.roots import IS_CHECKOUT, REPO, is_checkout


def test_a_checkout_is_known_by_its_pyproject_and_an_installed_copy_is_not(tmp_path: Path) -> None:
    (tmp_path / "site-packages" / "models").mkdir(parents=True)
    assert not is_checkout(tmp_path / "site-packages")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert is_checkout(tmp_path)


def test_the_tests_run_in_the_checkout() -> None:
    assert IS_CHECKOUT and (REPO / "pyproject.toml").is_file()
