"""Test keys (``nser_test_…``): answers from documented test identifiers, never the register.

An operator integrates against these before going live, as card processors
offer test card numbers:

=================  ==================  ======================================
identifier         value               answer
=================  ==================  ======================================
MSISDN             ``+254700000001``   always excluded, permanently
national ID        ``11111111``        always excluded, permanently
anything else      (e.g. +254700000002) never excluded
=================  ==================  ======================================

Test calls store nothing (subscriptions included) and are not counted.
"""

from __future__ import annotations

from api.schemas import Person
from core.errors import InvalidInput
from core.identity import normalise_msisdn, normalise_national_id
from core.register_cache import Standing
from core.webhooks import TEST_BST

EXCLUDED_MSISDN = "+254700000001"
NEVER_EXCLUDED_MSISDN = "+254700000002"
EXCLUDED_NATIONAL_ID = "11111111"


def standing_for_test_key(person: Person) -> Standing | None:
    """The test answer for ``person`` (already validated by the caller)."""
    try:
        msisdn = normalise_msisdn(person.msisdn) if person.msisdn else None
        national_id = normalise_national_id(person.national_id) if person.national_id else None
    except InvalidInput:
        return None
    if msisdn == EXCLUDED_MSISDN or national_id == EXCLUDED_NATIONAL_ID:
        return Standing(bst=TEST_BST, until=None, subject_id=0)
    return None
