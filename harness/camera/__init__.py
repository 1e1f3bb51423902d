"""Virtual camera: live frames and card photos of public test faces, written where OpenCV can read them."""
