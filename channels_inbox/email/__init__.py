"""The email channel: MIME parsing, the adapter, SMTP ingress and IMAP polling."""
