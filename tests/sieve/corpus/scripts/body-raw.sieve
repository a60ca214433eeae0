require ["body", "imap4flags"];
if body :raw :contains "JVBERi0" { addflag "pdf-raw"; }
