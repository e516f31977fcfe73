"""The gateway: the voters' HTTP API, sign-in and web pages, over the embedded site or over the site's services."""

from civitas_gateway.app import create_app
from civitas_gateway.auth import AuthSettings, operator_token, operator_token_path
from civitas_gateway.facade import RemoteSite
from civitas_gateway.http import create_gateway_app
from civitas_gateway.mail import Mailer, MailError, SMTPMailer

__all__ = ["AuthSettings", "MailError", "Mailer", "RemoteSite", "SMTPMailer", "create_app", "create_gateway_app",
           "operator_token", "operator_token_path"]
