"""exchangelib's own autodiscover against Pillarbox.

POX: exchangelib POSTs https://<domain>/Autodiscover/Autodiscover.xml (then autodiscover.<domain>) on
port 443; common.py maps every host name on 443 to the test server, so its discovery code runs unchanged
and must find the EWS URL and the server version in our "outlook" response.
SOAP: exchangelib's GetUserSettings client against /autodiscover/autodiscover.svc.

Env: PB_EWS_HOST, PB_EWS_PORT, EWS_USER, EWS_PASS, PB_HOSTNAME (the server's configured host name).
"""

import os

import common
from common import EWS_PASS, EWS_USER, check, credentials
from exchangelib import BASIC, Configuration
from exchangelib.autodiscover import clear_cache
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery
from exchangelib.autodiscover.protocol import AutodiscoverProtocol
from exchangelib.properties import ENTRY_ID, EWS_ID, AlternateId
from exchangelib.services import GetUserSettings

hostname = os.environ["PB_HOSTNAME"]
common.HOST_MAP[("*", 443)] = f"{common.PB_EWS_HOST}:{common.PB_EWS_PORT}"
clear_cache()

# 1. POX autodiscover, exchangelib's discovery steps (step 1: https://<domain>/Autodiscover/Autodiscover.xml).
ad, protocol = PoxAutodiscovery(email=EWS_USER, credentials=credentials()).discover()
check(protocol.service_endpoint.lower() == f"https://{hostname}/ews/exchange.asmx", f"EWS URL from autodiscover: {protocol.service_endpoint}")
check(ad.autodiscover_smtp_address == EWS_USER, "AutoDiscoverSMTPAddress is the user's address")
check(ad.protocol.auth_type == BASIC, f"auth type {ad.protocol.auth_type}")
check(ad.version is not None and ad.version.build.major_version == 15 and ad.version.build.minor_version == 1, f"server version from ServerVersion: {ad.version}")
check(ad.version.api_version == "Exchange2016", f"API version {ad.version.api_version}")

# The discovered endpoint answers (mapped to the test server): a ConvertId round trip with the discovered version.
(bad,) = list(protocol.convert_ids([AlternateId(id="DUMMY", format=EWS_ID, mailbox=EWS_USER)], ENTRY_ID))
check(type(bad).__name__ == "ErrorInvalidIdMalformed", "the discovered EWS endpoint answers")

# 2. A full Account through autodiscover (exchangelib's default path when autodiscover=True).
acct = common.autodiscover_account()
check(acct.protocol.service_endpoint.lower() == f"https://{hostname}/ews/exchange.asmx", "Account(autodiscover=True) finds the endpoint")
check(acct.primary_smtp_address == EWS_USER, "Account's primary address")

# 3. SOAP autodiscover: exchangelib's GetUserSettings service.
soap = AutodiscoverProtocol(
    config=Configuration(
        service_endpoint=f"https://{common.PB_EWS_HOST}:{common.PB_EWS_PORT}/autodiscover/autodiscover.svc",
        credentials=credentials(),
        auth_type=BASIC,
    )
)
r = GetUserSettings(protocol=soap).get(
    users=[EWS_USER],
    settings=["user_display_name", "auto_discover_smtp_address", "external_ews_url", "ews_supported_schemas", "external_ews_version"],
)
check(r.ews_url.lower().endswith("/ews/exchange.asmx"), f"ExternalEwsUrl {r.ews_url}")
check(r.autodiscover_smtp_address == EWS_USER, "AutoDiscoverSMTPAddress")
check(r.version is not None and r.version.api_version == "Exchange2016", f"newest EwsSupportedSchemas is Exchange2016 ({r.version})")
check(not r.user_settings_errors, "no setting errors for settings we have")
print("ok: autodiscover")
