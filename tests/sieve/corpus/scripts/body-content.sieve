require ["body", "imap4flags"];
if body :content "text/html" :contains "prize" { addflag "html-prize"; }
if body :content "text" :contains "12 percent" { addflag "text-12"; }
if body :content "text/plain" :contains "claim" { addflag "plain-claim"; }
