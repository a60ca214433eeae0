require ["spamtestplus", "relational", "comparator-i;ascii-numeric", "imap4flags"];
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "90" { addflag "p90"; }
if spamtest :percent :value "lt" :comparator "i;ascii-numeric" "10" { addflag "p10"; }
