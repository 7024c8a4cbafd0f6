"""USSD channel: Africa's Talking callback, menu state machine and screens."""
