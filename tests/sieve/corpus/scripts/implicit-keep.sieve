# No commands: the implicit keep files the message into INBOX (RFC 5228 §2.10.2).
