"""Identity documents: what the flow is given about the voter, and why a document was refused."""
