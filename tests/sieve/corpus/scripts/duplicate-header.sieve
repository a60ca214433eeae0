require ["duplicate", "imap4flags"];
if duplicate :header "subject" { addflag "same-subject"; }
