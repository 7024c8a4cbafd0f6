"""Regulator back-office: the Textual application staff use, over SSH, on the server.

``app.py`` is the application (navigation, the signed-in staff member, what may
never happen: no shell, no suspend, no browser); ``screens/`` one module per
screen; ``widgets/`` the pieces they share; ``backoffice.tcss`` the one
stylesheet. Every rule and permission lives in ``core``; the screens call it.
"""
