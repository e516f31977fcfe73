"""The sync rules, pure: who a site's peers are and how they may be linked, what flows where, pages, retries."""
