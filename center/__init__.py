"""The district center: voter registry, reserve responder, telemetry intake, closing-report store."""
