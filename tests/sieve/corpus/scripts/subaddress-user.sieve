require ["envelope", "subaddress", "imap4flags"];
if envelope :user "to" "alice" { addflag "\\Flagged"; }
