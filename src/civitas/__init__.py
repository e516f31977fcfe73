"""civitas: the site, its composition root and its `civitas` command."""
