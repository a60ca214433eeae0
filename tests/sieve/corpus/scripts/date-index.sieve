require ["date", "index", "imap4flags"];
# The receiving server adds its own Received field on top before the script runs, so index 1 is that one.
if date :index 1 "received" "year" "2021" { addflag "top-2021"; }
if date :index 2 "received" "year" "2021" { addflag "r2021"; }
if date :index 1 :last :originalzone "received" "date" "2021-12-25" { addflag "first-hop-date"; }
