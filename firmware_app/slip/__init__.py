"""The voting slip and the poll opening and closing reports, composed as device-neutral print documents."""

from firmware_app.slip.reports import ReportHeader, compose_closing_report, compose_zero_report
from firmware_app.slip.slip import SlipContent, compose_slip

__all__ = ["ReportHeader", "SlipContent", "compose_closing_report", "compose_slip", "compose_zero_report"]
