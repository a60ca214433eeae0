require ["mboxmetadata", "imap4flags"];
if not metadataexists "INBOX" "/private/comment" { addflag "no-comment"; }
