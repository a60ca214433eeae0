"""exchangelib against Pillarbox: the version guess (ConvertId of "DUMMY") and ConvertId round trips.

Usage: envelope_convert_id.py <EwsId of an item of EWS_USER>
"""

import sys

from common import EWS_USER, check, config
from exchangelib.properties import ENTRY_ID, EWS_ID, HEX_ENTRY_ID, ID_FORMATS, AlternateId
from exchangelib.protocol import Protocol

ews_id = sys.argv[1]

protocol = Protocol(config=config())
version = protocol.version  # no version given: exchangelib guesses it with ConvertId("DUMMY")
check(version.build.major_version == 15 and version.build.minor_version == 1, f"server build is Exchange 2016 ({version.build})")
check(version.api_version == "Exchange2016", f"API version {version.api_version}")

for fmt in ID_FORMATS:
    (other,) = list(protocol.convert_ids([AlternateId(id=ews_id, format=EWS_ID, mailbox=EWS_USER)], fmt))
    check(isinstance(other, AlternateId) and other.format == fmt, f"EwsId -> {fmt}")
    (back,) = list(protocol.convert_ids([AlternateId(id=other.id, format=fmt, mailbox=EWS_USER)], EWS_ID))
    check(back.id == ews_id, f"{fmt} -> EwsId")

(hex_id,) = list(protocol.convert_ids([AlternateId(id=ews_id, format=EWS_ID, mailbox=EWS_USER)], HEX_ENTRY_ID))
(entry_id,) = list(protocol.convert_ids([AlternateId(id=ews_id, format=EWS_ID, mailbox=EWS_USER)], ENTRY_ID))
import base64

check(base64.b64decode(entry_id.id).hex().upper() == hex_id.id, "EntryId and HexEntryId hold the same bytes")
(bad,) = list(protocol.convert_ids([AlternateId(id="DUMMY", format=EWS_ID, mailbox=EWS_USER)], ENTRY_ID))
check(type(bad).__name__ == "ErrorInvalidIdMalformed", f"malformed id answered as {type(bad).__name__}")
# No auth_type given: exchangelib probes the endpoint unauthenticated and reads WWW-Authenticate.
from common import EWS_URL, credentials
from exchangelib import BASIC, Configuration

probe = Protocol(config=Configuration(service_endpoint=EWS_URL, credentials=credentials()))
check(probe.auth_type == BASIC, f"auth type found by probing: {probe.auth_type}")
print("ok: round trip")
