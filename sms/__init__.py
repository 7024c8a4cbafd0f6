"""The SMS channel: keywords in Kiswahili and English by Africa's Talking MO, replies by MT."""
