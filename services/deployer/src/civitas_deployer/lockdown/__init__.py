"""`civitas lockdown` on a host: what it would change (plan, pure) and changing it (host), dry-run unless told."""

from civitas_deployer.lockdown.host import HostFacts, apply_step, read_facts
from civitas_deployer.lockdown.plan import SITE_USER, Step, plan

__all__ = ["SITE_USER", "HostFacts", "Step", "apply_step", "plan", "read_facts"]
