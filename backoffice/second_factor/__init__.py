"""A second factor for every staff sign-in: authenticator-app codes (TOTP) and recovery codes,
through django-otp.

Signing in has two steps: the password (the admin's login form, with its lockout), then a
code from the staff member's authenticator app, or a recovery code. Until both are done the
session is "password-only" and reaches nothing but the sign-in pages (``middleware``). The rule
lives in ``rules``; ``staff_is_verified(request)`` is what other code asks.
"""
