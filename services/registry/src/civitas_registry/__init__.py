"""civitas registry service: the voter register, the neighbourhood trust network and voter lists."""

from civitas_registry.commands import REGISTER_STREAMS, RegistryCommands
from civitas_registry.domain.addresses import normalise_address
from civitas_registry.domain.standing import LevelExplained, Source, explain_level, source_from
from civitas_registry.domain.voter_list import ListConfig, compile_voter_list, list_config_of
from civitas_registry.known_sites import KnownSites
from civitas_registry.lineage_commands import MoveOptions, fork_parent_of
from civitas_registry.settings import ListRules, MoveRules
from civitas_registry.unlocking import released

__all__ = ["REGISTER_STREAMS", "KnownSites", "LevelExplained", "ListConfig", "ListRules", "MoveOptions", "MoveRules",
           "RegistryCommands", "Source", "released",
           "compile_voter_list", "explain_level", "fork_parent_of", "list_config_of", "normalise_address", "source_from"]
