"""The embedded site's settings: the kernel's CIVITAS_* plus the rules of each service it runs in one process."""

from __future__ import annotations

from civitas_counter import CompileSchedule
from civitas_deployer import ChangeSettings
from civitas_deployer.host import HostSettings
from civitas_drafts import DraftRules
from civitas_kernel.settings import SiteSettings
from civitas_registry import ListRules, MoveRules


class Settings(SiteSettings, ListRules, MoveRules, CompileSchedule, ChangeSettings, HostSettings, DraftRules):
    """CIVITAS_HOME, CIVITAS_SITE, CIVITAS_LOG_URL, the voter lists' rules, the compile schedule, the live repository,
    host mode's limits, the drafts' rules, the cooling-off period between moves."""
