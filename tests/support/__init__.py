"""Test helpers that are real servers, not mocks (the project's DNS server for tests)."""
