"""The district's dashboard: a live web page of the fleet for staff, over TLS, and its Prometheus metrics."""
