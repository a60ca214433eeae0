require ["imap4flags", "fileinto"];
fileinto :flags ["\\Seen", "$Label1"] "Archive";
