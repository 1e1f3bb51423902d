"""Tests of the district center: roll, registry, responder and the center behind a real mosquitto."""
