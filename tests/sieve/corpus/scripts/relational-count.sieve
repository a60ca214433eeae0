require ["relational", "comparator-i;ascii-numeric", "imap4flags"];
if header :count "ge" :comparator "i;ascii-numeric" "x-label" "3" { addflag "many-labels"; }
if header :count "eq" :comparator "i;ascii-numeric" "received" "0" { addflag "no-received"; }
