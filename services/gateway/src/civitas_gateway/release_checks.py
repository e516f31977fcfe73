"""What must hold in a live release besides its templates, before its pages are served: its poll files, its rules
and its registrars can be read (each check gives a sentence per problem; none: fine). The services that apply them
refuse the same files the same way, so a release the pages serve is one they apply."""

from __future__ import annotations

from civitas_kernel.site_rules import release_problems
from civitas_polls import poll_file_problems

from civitas_gateway.release_pages import Check


def release_checks() -> tuple[Check, ...]:
    return (poll_file_problems, release_problems)
