"""Forms of the contact page and the customer portal: they read and check what the visitor
sent; the services do the rest."""

from __future__ import annotations

from django import forms

MAX_MESSAGE_LENGTH = 10_000


class ContactForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Email address", max_length=254)
    subject = forms.CharField(label="Subject", max_length=200)
    message = forms.CharField(
        label="How can we help?", max_length=MAX_MESSAGE_LENGTH, widget=forms.Textarea
    )
    order_number = forms.CharField(label="Order number (optional)", max_length=50, required=False)
    # The honeypot: hidden from people (and from screen readers); bots fill every field.
    website = forms.CharField(required=False, max_length=200)
    # The signed render time and funnel id (services.make_form_token).
    token = forms.CharField(max_length=500, widget=forms.HiddenInput)

    def clean_subject(self) -> str:
        return " ".join(self.cleaned_data["subject"].split())

    def clean_message(self) -> str:
        message = str(self.cleaned_data["message"]).strip()
        if not message:
            raise forms.ValidationError("Please tell us what you need.")
        return message

    def clean_order_number(self) -> str:
        return " ".join(self.cleaned_data["order_number"].split())


class SignInForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


class ReplyForm(forms.Form):
    text = forms.CharField(label="Your reply", max_length=MAX_MESSAGE_LENGTH, widget=forms.Textarea)

    def clean_text(self) -> str:
        text = str(self.cleaned_data["text"]).strip()
        if not text:
            raise forms.ValidationError("Please write a reply.")
        return text
