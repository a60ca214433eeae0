require ["spamtest", "relational", "comparator-i;ascii-numeric", "imap4flags"];
if spamtest :is "0" { addflag "untested"; }
if spamtest :value "eq" :comparator "i;ascii-numeric" "1" { addflag "one"; }
if spamtest :value "le" :comparator "i;ascii-numeric" "3" { addflag "low"; }
