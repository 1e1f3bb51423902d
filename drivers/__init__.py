"""Protocol drivers behind the HAL: PC/SC, ESC/POS over serial, camera, GPIO."""
