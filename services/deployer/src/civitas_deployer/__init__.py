"""civitas deployer service."""
