require ["envelope", "imap4flags"];
if envelope :is "to" "alice@example.test" { addflag "exact"; }
if envelope :localpart :is "to" "alice+shopping" { addflag "localpart-with-detail"; }
