"""Fixed key material for tests (32 ASCII bytes each, base64); never used outside tests."""

from __future__ import annotations

TEST_ENCRYPTION_KEYS = "t1:" + "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDE="
TEST_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktMDAwMDAwMDAwMDE="
