"""The web edge. Until the web issue lands: a status page and a health endpoint."""
