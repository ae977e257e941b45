"""Notifications: rendering the emails the tracker sends, queueing them in the outbox, links,
message assembly and SMTP delivery. Each module is imported where it is used (rendering loads
Jinja2, delivery aiosmtplib)."""
