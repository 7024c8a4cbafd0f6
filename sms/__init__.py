"""SMS channel (Africa's Talking MO/MT). Built by a later issue."""
