"""Fixed key material for tests (32 ASCII bytes each, base64); never used outside tests."""

from __future__ import annotations

TEST_ENCRYPTION_KEYS = "t1:" + "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDE="
TEST_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktMDAwMDAwMDAwMDE="
TEST_AUDIT_SIGNING_KEY = (
    "PRIVATE+KEY+test.nser.invalid/audit+b1d28a8f+AWdkBbEfAcAr+3423J8vfHvVpcS45jQB1BAVbJNc9XKB"
)
TEST_AUDIT_VERIFIER_KEY = (
    "test.nser.invalid/audit+b1d28a8f+AbqgwRtNa75ELldmk3WiNTNa2sDji70guvpQZhMXh+f6"
)
