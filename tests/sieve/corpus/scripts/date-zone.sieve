require ["date", "imap4flags"];
if date :zone "+0900" "date" "date" "2021-12-26" { addflag "tokyo"; }
if date :zone "-0500" "date" "hour" "18" { addflag "evening"; }
if date :originalzone "date" "zone" "-0500" { addflag "est"; }
