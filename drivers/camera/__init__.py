"""Camera driver: OpenCV capture from a device, a video file or an image sequence, latest frame only."""
