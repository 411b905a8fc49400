"""A production deployment without the payment gateway's secret fails its start check
(`manage.py check --deploy`) instead of answering the gateway's notices with errors."""

import pytest
from django.core import checks

from appointments.checks import check_payment_gateway_secret
from tests.security.test_deploy_and_headers import production_env, run_check_deploy


def test_check_deploy_fails_without_the_payment_gateway_secret():
    env = production_env()
    del env["PAYMENT_GATEWAY_SECRET"]
    result = run_check_deploy(env)
    assert result.returncode != 0
    assert "appointments.E001" in result.stderr and "PAYMENT_GATEWAY_SECRET" in result.stderr


@pytest.mark.parametrize(
    "debug, secret, expected",
    [
        (False, "", ["appointments.E001"]),
        (False, "short-secret", ["appointments.W001"]),
        (False, "x" * 32, []),
        (True, "", []),  # debug signs with its development secret
    ],
)
def test_the_check_names_a_missing_or_short_secret(settings, debug, secret, expected):
    settings.DEBUG, settings.PAYMENT_GATEWAY_SECRET = debug, secret
    assert [message.id for message in check_payment_gateway_secret(None)] == expected


def test_the_check_runs_only_for_deployments():
    """Tests, `make run` and the bench run without a gateway; only `check --deploy` asks."""
    assert check_payment_gateway_secret in checks.registry.registry.get_checks(include_deployment_checks=True)
    assert check_payment_gateway_secret not in checks.registry.registry.get_checks(include_deployment_checks=False)
