require ["fileinto", "mailbox", "copy", "imap4flags"];
fileinto :create :copy :flags ["\\Seen", "filed"] "Projects/Q4";
