require ["mailbox", "fileinto", "imap4flags"];
if mailboxexists "Archive" { fileinto "Archive"; }
if mailboxexists ["Archive", "Nope"] { addflag "both"; }
if not mailboxexists "Nope" { addflag "no-nope"; }
