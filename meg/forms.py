from django import forms


class DateInput(forms.DateInput):
    """The browser's date picker: it only accepts ISO dates, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
