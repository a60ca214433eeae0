require ["imap4flags", "comparator-i;ascii-numeric"];
if header :is :comparator "i;octet" "subject" "invoice 2026-11 for accounts" { addflag "octet"; }
if header :is :comparator "i;ascii-casemap" "subject" "invoice 2026-11 for accounts" { addflag "casemap"; }
if header :is :comparator "i;ascii-numeric" "x-priority" "3" { addflag "prio3"; }
if header :contains :comparator "i;octet" "subject" "Invoice" { addflag "octet-contains"; }
