"""exchangelib against Pillarbox: GetServerTimeZones as its free/busy code reads it.

Every zone's definition must turn into exchangelib's TimeZone (TimeZone.from_server_timezone), and the
rules of a few known zones must come out as their real offsets.
"""

import datetime

from common import EWS_USER as common_user
from common import check, config
from exchangelib.ewsdatetime import EWSTimeZone
from exchangelib.properties import TimeZone
from exchangelib.protocol import Protocol

protocol = Protocol(config=config(version="Exchange2016"))
year = datetime.date.today().year

short = list(protocol.get_timezones())
check(len(short) > 50 and all(t.id and t.name for t in short), f"{len(short)} zones listed with Id and Name")

full = {t.id: t for t in protocol.get_timezones(return_full_timezone_data=True)}
for tz_id, d in full.items():
    TimeZone.from_server_timezone(tz_definition=d, for_year=year)
check(len(full) == len(short), "every zone's full definition converts to exchangelib's TimeZone")

berlin = TimeZone.from_server_timezone(tz_definition=full["W. Europe Standard Time"], for_year=year)
check(berlin.bias == -60, f"W. Europe standard bias -60 min ({berlin.bias})")
check(berlin.daylight_time.bias == -60 and berlin.daylight_time.iso_month == 3 and berlin.daylight_time.occurrence == 5, f"W. Europe daylight: last Sunday of March, one hour ({berlin.daylight_time})")
check(berlin.standard_time.iso_month == 10 and berlin.standard_time.occurrence == 5, f"W. Europe standard: last Sunday of October ({berlin.standard_time})")

tokyo = TimeZone.from_server_timezone(tz_definition=full["Tokyo Standard Time"], for_year=year)
check(tokyo.bias == -540 and tokyo.daylight_time.bias == 0, f"Tokyo: UTC+9, no daylight saving ({tokyo.bias})")

# What get_free_busy_info does first: the zone of the start, by exchangelib's own IANA -> Windows mapping.
(ny,) = list(protocol.get_timezones(timezones=[EWSTimeZone("America/New_York")], return_full_timezone_data=True))
check(ny.id == "Eastern Standard Time", f"America/New_York is {ny.id}")
(utc,) = list(protocol.get_timezones(timezones=[EWSTimeZone("UTC")], return_full_timezone_data=True))
check(TimeZone.from_server_timezone(tz_definition=utc, for_year=year).bias == 0, "UTC has bias 0")
# Account.mail_tips: GetMailTips for the account itself (All tips).
from common import account

tips = account().mail_tips
check(tips.recipient_address.email_address == common_user, f"mail tips for {tips.recipient_address}")
check(tips.invalid_recipient is False and tips.mailbox_full is False and tips.max_message_size > 0, "mail tips: valid recipient, mailbox not full, a size limit")
print("ok: time zones")
