"""The operator screen: a local web page the kiosk browser shows; it renders flow snapshots and posts flow events."""
