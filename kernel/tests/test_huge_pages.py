"""A command that compiles records runs again with glibc's heap on huge pages, and only where that means something."""

from __future__ import annotations

from civitas_kernel.huge_pages import environ_on_huge_pages, thp_mode

GLIBC = "glibc 2.36"


def test_the_tunable_is_added_where_glibc_and_huge_pages_are():
    for mode in ("always", "madvise"):
        assert environ_on_huge_pages({"PATH": "/bin"}, mode, GLIBC) == {
            "PATH": "/bin", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}


def test_other_tunables_are_kept():
    got = environ_on_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, "madvise", GLIBC)
    assert got["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"


def test_nothing_changes_when_it_would_mean_nothing_or_is_set_already():
    assert environ_on_huge_pages({}, "never", GLIBC) is None  # the system has them off
    assert environ_on_huge_pages({}, None, GLIBC) is None  # no such setting: another kernel
    assert environ_on_huge_pages({}, "madvise", None) is None  # not glibc (musl, say)
    assert environ_on_huge_pages({"CIVITAS_HUGE_PAGES": "0"}, "madvise", GLIBC) is None  # asked not to
    # Set already (after the run again, or by the operator to another value on purpose): no second run, no change.
    assert environ_on_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, "madvise", GLIBC) is None
    assert environ_on_huge_pages({"GLIBC_TUNABLES": "a=1:glibc.malloc.hugetlb=1"}, "always", GLIBC) is None


def test_the_mode_is_the_bracketed_word(tmp_path, monkeypatch):
    setting = tmp_path / "enabled"
    setting.write_text("always [madvise] never\n")
    monkeypatch.setattr("civitas_kernel.huge_pages._THP", str(setting))
    assert thp_mode() == "madvise"
    monkeypatch.setattr("civitas_kernel.huge_pages._THP", str(tmp_path / "missing"))
    assert thp_mode() is None
