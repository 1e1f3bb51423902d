"""Tests of lamps, buzzer, buttons and tamper through gpiozero MockFactory."""
