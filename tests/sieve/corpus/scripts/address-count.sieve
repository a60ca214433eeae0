require ["relational", "comparator-i;ascii-numeric", "imap4flags"];
if address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "3" { addflag "three"; }
if address :count "ge" :comparator "i;ascii-numeric" "to" "1" { addflag "has-to"; }
