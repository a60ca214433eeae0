require ["date", "relational", "imap4flags"];
if currentdate :value "ge" "year" "2020" { addflag "after-2020"; }
if currentdate :value "lt" "year" "2000" { addflag "never"; }
