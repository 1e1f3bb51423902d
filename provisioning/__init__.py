"""Terminal enrolment, the device side: keys, certificates, installing the branch assignment bundle (its
format, shared with the center, is `protocol.enrolment`), zeroize."""
