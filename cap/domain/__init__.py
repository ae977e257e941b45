"""The pure core: lifecycle, calendar and deadlines. No database, no clock, no network."""
