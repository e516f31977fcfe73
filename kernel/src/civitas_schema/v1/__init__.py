"""Generated from proto/civitas_schema/v1; importing a module registers its messages."""
