require ["date", "imap4flags"];
if date :originalzone "date" "weekday" "6" { addflag "saturday"; }
if date :originalzone "date" "month" "12" { addflag "december"; }
