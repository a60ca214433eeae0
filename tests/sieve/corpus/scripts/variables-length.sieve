require ["variables", "relational", "comparator-i;ascii-numeric", "imap4flags"];
if header :matches "subject" "*" { set :length "len" "${1}"; }
if string :value "gt" :comparator "i;ascii-numeric" "${len}" "20" { addflag "long-subject"; }
