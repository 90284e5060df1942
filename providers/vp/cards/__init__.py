"""VP operator cards: free-spin and feature cards we send to players through VP, and cancel.

The only code that talks to VP is ``providers.vp.api_client``; this app keeps the cards, their
status history and the shared bearer token, and offers the admin pages and services over them.
"""
