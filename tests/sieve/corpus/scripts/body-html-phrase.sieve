require ["body", "imap4flags"];
# A phrase across inline HTML markup ("Hello <b>HTML</b> world"): see docs/SIEVE.md on body :text.
if body :text :contains "Hello HTML world" { addflag "phrase"; }
