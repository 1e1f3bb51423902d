"""The broker's TLS listener admits only live certificates of the district CA."""

from __future__ import annotations

import pytest

from center import cli as center_cli
from tests.security.clients import connection_outcome
from tests.security.conftest import SecureDistrict, TerminalMaker, terminal_name

pytestmark = pytest.mark.real_peer


def test_a_provisioned_terminal_connects(secure_district: SecureDistrict, provisioned: TerminalMaker) -> None:
    tls = provisioned(terminal_name())
    outcome = connection_outcome(secure_district.broker.address, tls.ca_file, tls)
    assert outcome == "connected", f"a freshly provisioned terminal was turned away: {outcome}"


def test_the_center_identity_connects_only_on_the_centers_listener(secure_district: SecureDistrict) -> None:
    tls = secure_district.pki.center_tls
    assert connection_outcome(secure_district.broker.center_address, tls.ca_file, tls) == "connected"
    outcome = connection_outcome(secure_district.broker.address, tls.ca_file, tls)
    assert outcome != "connected", "the center's certificate opened the terminals' listener"


def test_a_terminal_certificate_cannot_open_the_centers_listener(
    secure_district: SecureDistrict, provisioned: TerminalMaker
) -> None:
    tls = provisioned(terminal_name())
    outcome = connection_outcome(secure_district.broker.center_address, tls.ca_file, tls)
    assert outcome != "connected", "a terminal reached the center's listener, where client ids are free"


def test_a_client_without_certificate_is_refused(secure_district: SecureDistrict) -> None:
    outcome = connection_outcome(secure_district.broker.address, secure_district.pki.ca.ca_path, None)
    assert outcome != "connected", "a client without a certificate got in"


def test_plain_mqtt_on_the_tls_port_is_refused(secure_district: SecureDistrict) -> None:
    outcome = connection_outcome(secure_district.broker.address, secure_district.pki.ca.ca_path, None, plain=True)
    assert outcome != "connected", "a plaintext client got in"


def test_a_certificate_from_another_ca_is_refused(secure_district: SecureDistrict) -> None:
    foreign = secure_district.bad.foreign
    outcome = connection_outcome(secure_district.broker.address, secure_district.pki.ca.ca_path, foreign)
    assert outcome != "connected", "a certificate of another CA (same district name, same CN shape) got in"


def test_an_expired_certificate_is_refused(secure_district: SecureDistrict) -> None:
    expired = secure_district.bad.expired
    outcome = connection_outcome(secure_district.broker.address, expired.ca_file, expired)
    assert outcome != "connected", "an expired certificate got in"


def test_a_certificate_revoked_at_the_district_is_refused_once_the_broker_reloads(
    secure_district: SecureDistrict, provisioned: TerminalMaker
) -> None:
    name = terminal_name()
    tls = provisioned(name)
    broker = secure_district.broker
    assert connection_outcome(broker.address, tls.ca_file, tls) == "connected", "control: not admitted before"
    assert center_cli.main(["revoke", "--ca", str(secure_district.pki.ca.folder), "--terminal", name]) == 0
    broker.stop()
    broker.start()
    outcome = connection_outcome(broker.address, tls.ca_file, tls)
    assert outcome != "connected", "a certificate on the CRL got in"
    other = provisioned(terminal_name())
    assert connection_outcome(broker.address, other.ca_file, other) == "connected", "the CRL refused everyone"
