require ["envelope", "subaddress", "imap4flags"];
# Every part of the null reverse-path is the empty string.
if envelope :localpart :is "from" "" { addflag "localpart-empty"; }
if envelope :domain :is "from" "" { addflag "domain-empty"; }
if envelope :user :is "from" "" { addflag "user-empty"; }
if envelope :all :is "from" "" { addflag "all-empty"; }
