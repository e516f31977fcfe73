"""The drafts service: groups with weighted members, posts of paragraphs, amendments and moderation votes."""

from civitas_drafts.commands import DRAFT_STREAMS, DraftCommands
from civitas_drafts.settings import DraftRules
from civitas_drafts.site_reads import DraftReads

__all__ = ["DRAFT_STREAMS", "DraftCommands", "DraftReads", "DraftRules"]
