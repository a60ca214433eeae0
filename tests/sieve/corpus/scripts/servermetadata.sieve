require ["servermetadata", "imap4flags"];
if not servermetadataexists "/shared/comment" { addflag "no-server-comment"; }
