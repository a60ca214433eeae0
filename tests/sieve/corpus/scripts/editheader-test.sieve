require ["editheader", "imap4flags"];
addheader "X-Sieve-Seen" "1";
if header :is "x-sieve-seen" "1" { addflag "sees-own-header"; }
deleteheader "subject";
if not exists "subject" { addflag "subject-gone"; }
