require ["body", "imap4flags"];
if body :matches "*order ????*" { addflag "order"; }
