"""The gateway: the voters' HTTP API and web pages over the site's services."""
