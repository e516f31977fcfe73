"""Helpers for the tests of every service: real servers, started when none is given."""
