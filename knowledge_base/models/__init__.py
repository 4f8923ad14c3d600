"""The knowledge base's models: articles (the help center's content) and the portal's
(contact-form deflection, customer sign-in links)."""

from knowledge_base.models.articles import *  # noqa: F403
from knowledge_base.models.portal import *  # noqa: F403
