from __future__ import annotations

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class ResetForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the sign-in audit for good, e.g. “Lost phone, ticket SEC-120; "
        "identity checked by video call”.",
    )
