"""The contact form's deflection funnel and the customer portal's sign-in links."""

__all__: list[str] = []
