require ["imap4flags", "fileinto"];
# A runtime error after addflag (no such folder, no :create): only the implicit keep, without the flags (RFC 5228 §2.10.6).
addflag "\\Flagged";
fileinto "NoSuchFolder";
