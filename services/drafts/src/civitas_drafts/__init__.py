"""The drafts service: groups with weighted members, posts of paragraphs, amendments and moderation votes."""
