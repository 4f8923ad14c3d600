"""What Meta's messaging products share: the webhook handshake and signature (WhatsApp,
Messenger and Instagram sign alike) and the Graph API client their adapters send through."""
