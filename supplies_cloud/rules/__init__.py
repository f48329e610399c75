"""The rules of the service, in plain modules that know nothing of HTTP."""
