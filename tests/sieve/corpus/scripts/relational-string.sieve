require ["relational", "imap4flags"];
if header :value "lt" "subject" "M" { addflag "a-to-l"; }
if address :value "ge" :domain "from" "q" { addflag "late-domain"; }
