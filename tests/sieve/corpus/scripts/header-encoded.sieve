require ["fileinto", "imap4flags"];
# RFC 5228 §2.7.2: header tests compare decoded encoded-words.
if header :contains "subject" "München" { fileinto "Archive"; }
if header :contains "from" "Jürgen" { addflag "juergen"; }
