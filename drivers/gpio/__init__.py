"""GPIO driver (gpiozero): status lamps, a buzzer, operator buttons and the tamper switch."""
