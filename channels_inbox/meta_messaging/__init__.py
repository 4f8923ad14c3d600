"""The Messenger and Instagram channels, one package for both: Meta gives them the same
webhook envelope, events, Send API, errors and messaging window, so one adapter serves
both kinds and the few differences (webhook object, text limit, file types, profile
fields, Instagram-only content) are data in ``products``.

Credentials (write-only, in ``ChannelAccount.credentials``): ``app_secret`` (the Meta app's
App Secret, which signs every notification), ``verify_token`` (our answer to Meta's
subscription handshake), ``page_access_token`` (sends, names customers) and ``page_id``:
the id Meta's notifications name the account by (``entry[].id``), which is the Facebook
Page's id for Messenger and the Instagram professional account's id for Instagram.

Options: ``human_agent_tag`` (true when the app has Meta's Human Agent permission: replies
may then go with the HUMAN_AGENT tag for up to 7 days after the customer's last message,
instead of 24 hours). The Graph API base and version are the setting
``META_GRAPH_API_URL`` (``channels_inbox.meta.graph``).
"""
