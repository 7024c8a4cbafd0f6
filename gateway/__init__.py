"""The Africa's Talking gateway layer shared by the citizen channels.

Form parsing and validation of the gateway's callbacks (:mod:`gateway.forms`)
and the check that a callback really comes from the gateway
(:mod:`gateway.guard`). ``ussd`` and ``sms`` build on it; it builds only on
``core`` and Starlette.
"""
