"""The REST API for other systems (``/api/v1``): the workflow's use cases over HTTP with JSON,
called with a token (``Authorization: Bearer``), errors as RFC 9457 problem details."""
