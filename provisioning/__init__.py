"""Terminal enrolment: keys, certificates, branch assignment bundle, zeroize."""
