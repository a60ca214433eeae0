require ["encoded-character", "fileinto", "imap4flags"];
if header :contains "subject" "${hex:49 6e 76 6f 69 63 65}" { fileinto "Archive"; }
if header :contains "subject" "Gr${unicode:00fc}${unicode:df}e" { addflag "gruesse"; }
if header :contains "subject" "${hex:}${unicode:}Release" { addflag "release"; }
