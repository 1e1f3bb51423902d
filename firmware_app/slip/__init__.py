"""The voting slip, the poll opening and closing reports and the branch minutes, as device-neutral print documents."""

from firmware_app.slip.minutes import compose_minutes
from firmware_app.slip.reports import ReportHeader, compose_closing_report, compose_zero_report
from firmware_app.slip.slip import SlipContent, compose_slip

__all__ = ["ReportHeader", "SlipContent", "compose_closing_report", "compose_minutes", "compose_slip",
           "compose_zero_report"]
